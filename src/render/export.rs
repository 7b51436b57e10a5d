//! The static export (SPEC §6): the whole public site as files with relative links, so any
//! static host, CDN or object store can serve the page while the main host is down. Every
//! file is written to a temporary name and renamed: a reader never sees half a file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::site::{self, Links};
use super::{Snapshot, pages};
use crate::assets;
use crate::config::Config;
use crate::db::incidents;

/// What one export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub files: usize,
    pub bytes: u64,
}

/// Remembers which incident pages are already on disk, so the server re-writes only the
/// incidents that changed.
#[derive(Default)]
pub struct Exporter {
    written: Mutex<HashMap<i64, i64>>,
}

impl Exporter {
    /// Writes everything that changed since the last export into `out`.
    pub fn export(
        &self,
        config: &Config,
        conn: &Connection,
        out: &Path,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Written> {
        let snapshot = Snapshot::load(conn, config.page.history_days, now)?;
        let mut files = site::render(config, &snapshot, &Links::export(0))?;
        for page in 1..=pages::history_pages(conn, now)? {
            files.extend(pages::history(config, conn, page, &Links::export(0), now)?);
        }
        let versions = incidents::versions(conn)?;
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        for (id, version) in &versions {
            if written.get(id) == Some(version) && out.join(pages::incident_path(*id)).exists() {
                continue;
            }
            files.extend(pages::incident(config, conn, *id, &Links::export(1), now)?);
        }
        let mut total = Written::default();
        for file in &files {
            total.bytes += write_atomically(out, &file.path, &file.body)?;
            total.files += 1;
        }
        for asset in assets::ALL {
            total.bytes += write_atomically(out, &format!("assets/{}", asset.name), asset.body)?;
            total.files += 1;
        }
        remove_deleted_incidents(out, &versions)?;
        *written = versions.into_iter().collect();
        Ok(total)
    }
}

/// Writes `body` to `out/path` through a temporary file in the same folder and a rename.
fn write_atomically(out: &Path, path: &str, body: &[u8]) -> anyhow::Result<u64> {
    let target = out.join(path);
    let folder = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out.to_path_buf());
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let temporary: PathBuf = folder.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, body)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &target).with_context(|| {
        format!(
            "cannot rename {} to {}",
            temporary.display(),
            target.display()
        )
    })?;
    Ok(body.len() as u64)
}

/// Incident pages of incidents the owner deleted go too.
fn remove_deleted_incidents(out: &Path, versions: &[(i64, i64)]) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(out.join("incidents")) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let id = name
            .to_str()
            .and_then(|n| n.strip_suffix(".html"))
            .and_then(|n| n.parse::<i64>().ok());
        if let Some(id) = id
            && !versions.iter().any(|(v, _)| *v == id)
        {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
}
