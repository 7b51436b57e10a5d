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
    let partial = tempfile::Builder::new()
        .prefix(".signalfire-backup-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?
        .into_temp_path();
    // VACUUM INTO wants a file that is absent or empty.
    std::fs::remove_file(&partial).ok();
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
    partial
        .persist(out)
        .with_context(|| format!("cannot name the copy {}", out.display()))?;
    Ok(std::fs::metadata(out)?.len())
}
