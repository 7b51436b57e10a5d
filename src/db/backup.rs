//! `signalfire backup`: a consistent copy of the database while the server writes. SQLite's
//! `VACUUM INTO` reads one snapshot (WAL lets writers go on meanwhile) into a new, compact
//! file; the copy is checked before it is given its name.

use std::path::Path;

use anyhow::Context;
use rusqlite::{Connection, OpenFlags};

/// Writes the copy to `out` (which must not exist); returns its size in bytes.
pub fn write(database: &Path, out: &Path) -> anyhow::Result<u64> {
    if out.exists() {
        anyhow::bail!(
            "{} exists already; choose a new file name (a backup never overwrites)",
            out.display()
        );
    }
    if !database.exists() {
        anyhow::bail!("there is no database at {}", database.display());
    }
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Created empty and readable by its owner only (the copy holds subscribers' addresses);
    // VACUUM INTO fills an empty file and keeps its mode.
    let partial = tempfile::Builder::new()
        .prefix(".signalfire-backup-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?
        .into_temp_path();
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", database.display()))?;
    source.busy_timeout(std::time::Duration::from_secs(30))?;
    let target = partial
        .to_str()
        .context("the backup's folder name is not UTF-8")?;
    source
        .execute("VACUUM INTO ?1", [target])
        .context("cannot copy the database")?;
    let copy = Connection::open_with_flags(&partial, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    if check != "ok" {
        anyhow::bail!("the copy failed its integrity check: {check}");
    }
    drop(copy);
    // On disk before it has its name (SQLite does not sync what VACUUM INTO writes).
    std::fs::File::open(&partial)
        .and_then(|f| f.sync_all())
        .context("cannot flush the copy to disk")?;
    partial.persist_noclobber(out).with_context(|| {
        format!(
            "cannot name the copy {} (a backup never overwrites)",
            out.display()
        )
    })?;
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(std::fs::metadata(out)?.len())
}
