//! The static export (SPEC §6): the whole public site as files with relative links, so any
//! static host, CDN or object store can serve the page while the main host is down.
//!
//! An export is rendered inside one read transaction, then written outside it — and only the
//! files whose bytes changed are written: one monitor's change on a site of 1,000 monitors
//! rewrites a few dozen of its 6,000 files, not all of them. A file is written to a unique
//! temporary name, flushed to disk and renamed (a reader never sees half a file, and two
//! exporters never write into each other's file); each folder that changed is flushed once.
//! Files are made readable by everyone (0644, folders 0755) whatever the umask: the copy is
//! there to be served, by a web server that runs as another user.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tokio_util::sync::CancellationToken;

use super::changes::Changes;
use super::site::{self, HTML};
use super::{calendar, pages, snapshot};
use crate::config::Config;
use crate::db::{Db, incidents};
use crate::domain::clock::Clock;
use crate::events::{Event, Subscriber};
use crate::views::{Links, Site, error_page};

/// Changes arriving within this window are exported together.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// The export is written at least this often, so its "last checked" times stay fresh.
const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// A failed export is tried again this soon.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
/// Exported files: readable by the web server that serves the copy, written only by us.
const FILE_MODE: u32 = 0o644;
/// Exported folders: the same, and searchable.
const DIR_MODE: u32 = 0o755;

/// What one export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Files written because their bytes changed (or were not there).
    pub files: usize,
    pub bytes: u64,
    /// Files of the site left as they were on disk.
    pub unchanged: usize,
}

#[derive(Default)]
struct Exported {
    /// Closed incidents on disk, by id, with the `updated_at` they were written at.
    closed: HashMap<i64, i64>,
    /// Every path of the last export, to remove what is no longer part of the site.
    paths: HashSet<String>,
    /// A hash of the bytes each path last had on disk, to leave unchanged files alone.
    hashes: HashMap<String, u64>,
}

/// One export, rendered and not yet written.
pub struct Rendered {
    files: Vec<super::cache::File>,
    /// Closed incidents' pages already on disk as they are, not rendered again.
    kept: HashSet<String>,
    closed: HashMap<i64, i64>,
}

/// Remembers what is already on disk, so the server re-writes only what changed and removes
/// what went away (badges of removed monitors, surplus history pages, deleted incidents).
#[derive(Default)]
pub struct Exporter {
    exported: Mutex<Exported>,
    /// The settled days of the uptime bars, read once, as the live renderer keeps them.
    history: snapshot::DayHistory,
    /// Keys the hashes of exported files: SipHash with this process's random key, so a
    /// page's content cannot be made to collide with another's (64 bits otherwise suffice).
    hasher: RandomState,
}

impl Exporter {
    /// Renders the site for `out` (inside the read transaction `conn` is in); [`Self::write`]
    /// writes it. `offline_since` is shown as on the live page.
    pub fn render(
        &self,
        config: &Config,
        conn: &Connection,
        out: &Path,
        now: DateTime<Utc>,
        offline_since: Option<DateTime<Utc>>,
    ) -> anyhow::Result<Rendered> {
        let mut snapshot = snapshot::load(conn, config, now, &self.history)?;
        snapshot.checker_offline_since = offline_since;
        let mut files = site::render(config, &snapshot, &Links::export(0))?;
        files.extend(calendar::component_files(config, &snapshot));
        // The 404 page is served at any depth: its links start at the host's root.
        let rooted = Links::export_rooted();
        let not_found = error_page::not_found(&Site {
            page: &config.page,
            links: &rooted,
        });
        files.retain(|f| f.path != "404.html");
        files.push(super::cache::File {
            path: "404.html".to_string(),
            content_type: HTML,
            body: Bytes::from(not_found.into_string()),
        });
        for page in 1..=pages::history_pages(conn, now, config.page.timezone)? {
            files.extend(pages::history(config, conn, page, &Links::export(0), now)?);
        }
        // Each component's feeds, so a second host serves every feed the server does.
        for component in &snapshot.components {
            for format in ["rss", "atom", "json"] {
                files.extend(pages::component_feed(
                    config,
                    conn,
                    &component.monitor.key,
                    format,
                    now,
                )?);
            }
        }
        let exported = self.exported.lock().unwrap_or_else(|p| p.into_inner());
        let mut kept: HashSet<String> = HashSet::new();
        let mut closed = HashMap::new();
        for (id, version, open) in incidents::versions(conn)? {
            let path = pages::incident_path(id);
            let unchanged =
                !open && exported.closed.get(&id) == Some(&version) && out.join(&path).exists();
            if !open {
                closed.insert(id, version);
            }
            if unchanged {
                kept.insert(path);
                continue;
            }
            files.extend(pages::incident(config, conn, id, &Links::export(1), now)?);
        }
        Ok(Rendered {
            files,
            kept,
            closed,
        })
    }

    /// Writes what [`Self::render`] made into `out`: the files whose bytes changed, and
    /// removes the files that are no longer part of the site.
    pub fn write(&self, out: &Path, rendered: Rendered) -> anyhow::Result<Written> {
        let mut exported = self.exported.lock().unwrap_or_else(|p| p.into_inner());
        let Rendered {
            files,
            mut kept,
            closed,
        } = rendered;
        let mut hashes = HashMap::with_capacity(files.len());
        let mut changed_dirs = BTreeSet::new();
        let mut total = Written::default();
        for file in &files {
            let hash = self.hasher.hash_one(&file.body[..]);
            let target = out.join(&file.path);
            let same = match exported.hashes.get(&file.path) {
                Some(known) => *known == hash && target.is_file(),
                // Not written by this process: what is on disk may be it already.
                None => is_on_disk(&target, &file.body),
            };
            hashes.insert(file.path.clone(), hash);
            kept.insert(file.path.clone());
            if same {
                total.unchanged += 1;
                continue;
            }
            total.bytes += write_atomically(out, &file.path, &file.body)?;
            total.files += 1;
            changed_dirs.insert(folder_of(out, &target));
        }
        for gone in exported.paths.difference(&kept) {
            let file = out.join(gone);
            if file.exists() {
                std::fs::remove_file(&file)
                    .with_context(|| format!("cannot remove {}", file.display()))?;
                changed_dirs.insert(folder_of(out, &file));
            }
        }
        if remove_unknown_incident_pages(out, &kept)? {
            changed_dirs.insert(out.join("incidents"));
        }
        // The renames and removals themselves reach the disk: each changed folder, once.
        for dir in &changed_dirs {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .with_context(|| format!("cannot flush {}", dir.display()))?;
        }
        *exported = Exported {
            closed,
            paths: kept,
            hashes,
        };
        Ok(total)
    }

    /// Renders and writes the site into `out` (`signalfire export`).
    pub fn export(
        &self,
        config: &Config,
        db: &Db,
        out: &Path,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Written> {
        let rendered = db.read_blocking(|conn| self.render(config, conn, out, now, None))?;
        self.write(out, rendered)
    }
}

/// True when `path` holds exactly `body`, readable by everyone.
fn is_on_disk(path: &Path, body: &[u8]) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else {
        return false;
    };
    metadata.len() == body.len() as u64
        && metadata.permissions().mode() & 0o777 == FILE_MODE
        && std::fs::read(path).is_ok_and(|bytes| bytes == body)
}

fn folder_of(out: &Path, file: &Path) -> PathBuf {
    file.parent()
        .map_or_else(|| out.to_path_buf(), Path::to_path_buf)
}

/// Creates `folder` and the folders above it that are missing, each 0755 whatever the umask.
fn create_folders(folder: &Path) -> anyhow::Result<()> {
    if folder.is_dir() {
        return Ok(());
    }
    if let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_folders(parent)?;
    }
    match std::fs::DirBuilder::new().mode(DIR_MODE).create(folder) {
        Ok(()) => {}
        // Another exporter made it meanwhile.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot create {}", folder.display()));
        }
    }
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(DIR_MODE))
        .with_context(|| format!("cannot make {} readable", folder.display()))
}

/// Writes `body` to `out/path`: a unique temporary file in the same folder, flushed to disk,
/// then renamed over the target.
fn write_atomically(out: &Path, path: &str, body: &[u8]) -> anyhow::Result<u64> {
    let target = out.join(path);
    let folder = folder_of(out, &target);
    create_folders(&folder)?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".signalfire-")
        .suffix(".tmp")
        .tempfile_in(&folder)
        .with_context(|| format!("cannot create a temporary file in {}", folder.display()))?;
    temporary
        .write_all(body)
        .with_context(|| format!("cannot write {}", target.display()))?;
    // A temporary file is made 0600: the web server serving the copy could not read it.
    temporary
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(FILE_MODE))
        .with_context(|| format!("cannot make {} readable", target.display()))?;
    temporary
        .as_file()
        .sync_all()
        .with_context(|| format!("cannot flush {}", target.display()))?;
    temporary
        .persist(&target)
        .with_context(|| format!("cannot rename into {}", target.display()))?;
    Ok(body.len() as u64)
}

/// Incident pages not in this export (deleted incidents, also from an earlier process) go.
/// True when one went.
fn remove_unknown_incident_pages(out: &Path, paths: &HashSet<String>) -> anyhow::Result<bool> {
    let Ok(entries) = std::fs::read_dir(out.join("incidents")) else {
        return Ok(false);
    };
    let mut removed = false;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| n.ends_with(".html")) else {
            continue;
        };
        if !paths.contains(&format!("incidents/{name}")) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            removed = true;
        }
    }
    Ok(removed)
}

/// The server's side of `[publish] dir`: a subscriber of the change stream that writes the
/// static site again after every change (SPEC §6).
pub struct Publisher {
    db: Db,
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    dir: PathBuf,
    exporter: Exporter,
    changes: Changes,
    /// False while exports fail: then nobody waits for the next one.
    healthy: std::sync::atomic::AtomicBool,
}

impl Subscriber for Publisher {
    fn notify(&self, events: &[Event]) {
        self.changes.take_note(events);
    }
}

impl Publisher {
    pub fn new(db: Db, config: Arc<Config>, clock: Arc<dyn Clock>, dir: PathBuf) -> Self {
        Self {
            db,
            config,
            clock,
            dir,
            exporter: Exporter::default(),
            changes: Changes::default(),
            healthy: std::sync::atomic::AtomicBool::new(true),
        }
    }

    /// Writes the site now (off the async executor): rendered in a read transaction, written
    /// after it ended, so a slow disk holds no snapshot of the database open.
    pub async fn publish(self: &Arc<Self>) -> anyhow::Result<Written> {
        let heard = self.changes.heard();
        let offline_since = self.changes.offline_since();
        let now = self.clock.now();
        let this = self.clone();
        let rendered = self
            .db
            .read(move |conn| {
                this.exporter
                    .render(&this.config, conn, &this.dir, now, offline_since)
            })
            .await;
        let written = match rendered {
            Ok(rendered) => {
                let this = self.clone();
                tokio::task::spawn_blocking(move || this.exporter.write(&this.dir, rendered))
                    .await
                    .map_err(anyhow::Error::from)
                    .and_then(|w| w)
            }
            Err(e) => Err(e),
        };
        let ok = written.is_ok();
        self.healthy.store(ok, std::sync::atomic::Ordering::Release);
        if ok {
            self.changes.rendered(heard);
        }
        written
    }

    /// True unless the last export failed.
    pub fn healthy(&self) -> bool {
        self.healthy.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Resolves once every change published so far is on disk.
    pub async fn settled(&self) {
        self.changes.settled().await;
    }

    /// Publishes after every change and once a minute, until `stop`.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        let mut failed = false;
        loop {
            // A failed export (a full disk, a folder taken away) is tried again soon.
            let idle = if failed {
                RETRY_AFTER_FAILURE
            } else {
                REFRESH_EVERY
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.changes.woken() => {}
                () = tokio::time::sleep(idle) => {}
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(DEBOUNCE) => {}
            }
            failed = match self.publish().await {
                Ok(_) => false,
                Err(e) => {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "publishing the static site failed; trying again shortly"
                    );
                    true
                }
            };
        }
    }
}
