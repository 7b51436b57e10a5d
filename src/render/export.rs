//! The static export (SPEC §6): the whole public site as files with relative links, so any
//! static host, CDN or object store can serve the page while the main host is down. Every
//! file is written to a unique temporary name, flushed to disk and renamed: a reader never
//! sees half a file, and two exporters never write into each other's file.

use std::collections::{HashMap, HashSet};
use std::io::Write;
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

/// What one export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub files: usize,
    pub bytes: u64,
}

#[derive(Default)]
struct Exported {
    /// Closed incidents on disk, by id, with the `updated_at` they were written at.
    closed: HashMap<i64, i64>,
    /// Every path the last export wrote, to remove what is no longer part of the site.
    paths: HashSet<String>,
}

/// Remembers what is already on disk, so the server re-writes only what changed and removes
/// what went away (badges of removed monitors, surplus history pages, deleted incidents).
#[derive(Default)]
pub struct Exporter {
    exported: Mutex<Exported>,
    /// The settled days of the uptime bars, read once, as the live renderer keeps them.
    history: snapshot::DayHistory,
}

impl Exporter {
    /// Writes the site into `out`. `offline_since` is shown as on the live page.
    pub fn export(
        &self,
        config: &Config,
        conn: &Connection,
        out: &Path,
        now: DateTime<Utc>,
        offline_since: Option<DateTime<Utc>>,
    ) -> anyhow::Result<Written> {
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
        let mut exported = self.exported.lock().unwrap_or_else(|p| p.into_inner());
        let mut paths: HashSet<String> = HashSet::new();
        let mut closed = HashMap::new();
        for (id, version, open) in incidents::versions(conn)? {
            let path = pages::incident_path(id);
            let unchanged =
                !open && exported.closed.get(&id) == Some(&version) && out.join(&path).exists();
            if !open {
                closed.insert(id, version);
            }
            if unchanged {
                paths.insert(path);
                continue;
            }
            files.extend(pages::incident(config, conn, id, &Links::export(1), now)?);
        }
        let mut total = Written::default();
        for file in &files {
            total.bytes += write_atomically(out, &file.path, &file.body)?;
            total.files += 1;
            paths.insert(file.path.clone());
        }
        for gone in exported.paths.difference(&paths) {
            let file = out.join(gone);
            if file.exists() {
                std::fs::remove_file(&file)
                    .with_context(|| format!("cannot remove {}", file.display()))?;
            }
        }
        remove_unknown_incident_pages(out, &paths)?;
        *exported = Exported { closed, paths };
        Ok(total)
    }
}

/// Writes `body` to `out/path`: a unique temporary file in the same folder, flushed to disk,
/// then renamed over the target.
fn write_atomically(out: &Path, path: &str, body: &[u8]) -> anyhow::Result<u64> {
    let target = out.join(path);
    let folder = target
        .parent()
        .map_or_else(|| out.to_path_buf(), Path::to_path_buf);
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".signalfire-")
        .suffix(".tmp")
        .tempfile_in(&folder)
        .with_context(|| format!("cannot create a temporary file in {}", folder.display()))?;
    temporary
        .write_all(body)
        .with_context(|| format!("cannot write {}", target.display()))?;
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
fn remove_unknown_incident_pages(out: &Path, paths: &HashSet<String>) -> anyhow::Result<()> {
    let Ok(entries) = std::fs::read_dir(out.join("incidents")) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| n.ends_with(".html")) else {
            continue;
        };
        if !paths.contains(&format!("incidents/{name}")) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
        }
    }
    Ok(())
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

    /// Writes the site now (off the async executor).
    pub async fn publish(self: &Arc<Self>) -> anyhow::Result<Written> {
        let heard = self.changes.heard();
        let offline_since = self.changes.offline_since();
        let now = self.clock.now();
        let this = self.clone();
        let written = self
            .db
            .read(move |conn| {
                this.exporter
                    .export(&this.config, conn, &this.dir, now, offline_since)
            })
            .await;
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
