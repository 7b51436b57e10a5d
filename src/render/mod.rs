//! The read side: everything public is rendered once per change (and once a minute for the
//! "last checked" times) into memory; a request is a lookup. The renderer hears of changes on
//! the change stream (the [`PageCache`] is a subscriber); the static export is another.

pub mod badge;
pub mod cache;
pub mod calendar;
pub mod changes;
pub mod export;
pub mod feeds;
pub mod ics;
pub mod pages;
pub mod site;
pub mod snapshot;
pub mod statuspage;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

pub use cache::{PageCache, Rendered};

use crate::config::Config;
use crate::db::Db;
use crate::domain::clock::Clock;
use crate::metrics::Metrics;
use crate::views::Links;

/// Pages are re-rendered at least this often, so "last checked" stays fresh.
const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// Changes arriving within this window are rendered together.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// However slow renders get, a change shows on the page within this (plus one render).
const MAX_PAUSE: Duration = Duration::from_secs(10);
/// A failed render is tried again this soon (the database may have been busy).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(2);

/// Renders the public site into the [`PageCache`]. Cheap to clone.
#[derive(Clone)]
pub struct Renderer {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    config: Arc<Config>,
    cache: Arc<PageCache>,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    /// One refresh at a time, so an older snapshot never replaces a newer one.
    refreshing: tokio::sync::Mutex<()>,
    /// The settled days of the uptime bars, read once.
    history: Arc<snapshot::DayHistory>,
}

impl Renderer {
    pub fn new(db: Db, config: Arc<Config>, metrics: Arc<Metrics>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                config,
                cache: Arc::new(PageCache::new()),
                metrics,
                clock,
                refreshing: tokio::sync::Mutex::new(()),
                history: Arc::new(snapshot::DayHistory::new()),
            }),
        }
    }

    /// The rendered pages; also the subscriber that hears of changes.
    pub fn cache(&self) -> &Arc<PageCache> {
        &self.inner.cache
    }

    /// Loads a snapshot in one read transaction and re-renders every public page, off the
    /// async executor.
    pub async fn refresh(&self) -> anyhow::Result<()> {
        let inner = &self.inner;
        let _one_at_a_time = inner.refreshing.lock().await;
        let heard = inner.cache.changes.heard();
        let offline_since = inner.cache.changes.offline_since();
        let (config, cache, metrics, history) = (
            inner.config.clone(),
            inner.cache.clone(),
            inner.metrics.clone(),
            inner.history.clone(),
        );
        let now = inner.clock.now();
        inner
            .db
            .read(move |conn| {
                let mut snapshot = snapshot::load(conn, &config, now, &history)?;
                snapshot.checker_offline_since = offline_since;
                let files = site::render(&config, &snapshot, &Links::server())?;
                for c in &snapshot.components {
                    metrics.set_status(&c.monitor.key, c.known_status());
                }
                cache.store(files, snapshot.generated_at);
                cache.set_snapshot(snapshot);
                Ok(())
            })
            .await?;
        inner.cache.changes.rendered(heard);
        Ok(())
    }

    /// Resolves once every change published so far shows on the pages.
    pub async fn settled(&self) {
        self.inner.cache.changes.settled().await;
    }

    /// [`Renderer::settled`], asking the renderer to skip its debounce pause: for an owner
    /// who waits to see their change.
    pub async fn settled_soon(&self) {
        self.inner.cache.changes.hurry();
        self.settled().await;
    }

    /// A page rendered on first request: from the cache, or rendered now (off the executor)
    /// by `render` and kept until the next change. `None` when `render` finds nothing to show.
    pub async fn lazy_page<F>(&self, path: &str, render: F) -> anyhow::Result<Option<Arc<Rendered>>>
    where
        F: FnOnce(
                &Config,
                &rusqlite::Connection,
                &Links,
                DateTime<Utc>,
            ) -> rusqlite::Result<Option<cache::File>>
            + Send
            + 'static,
    {
        let inner = &self.inner;
        if let Some(found) = inner.cache.get(path) {
            return Ok(Some(found));
        }
        let generation = inner.cache.generation();
        let config = inner.config.clone();
        let now = inner.clock.now();
        let rendered = inner
            .db
            .read(move |conn| {
                let file = render(&config, conn, &Links::server(), now)?;
                Ok(file.map(|f| (f.path.clone(), Arc::new(Rendered::new(f, now)))))
            })
            .await?;
        Ok(rendered.map(|(path, page)| {
            inner.cache.insert_lazy(path, page.clone(), generation);
            page
        }))
    }

    /// Re-renders on every change and every [`REFRESH_EVERY`], until `stop`. Changes that
    /// arrive while waiting are rendered together; the wait grows with the cost of a render
    /// (twice the last one), so a page of thousands of components never takes more than a
    /// third of a core.
    pub async fn run(self, stop: CancellationToken) {
        let changes = &self.inner.cache.changes;
        let mut pause = DEBOUNCE;
        let mut failed = false;
        loop {
            let idle = if failed {
                RETRY_AFTER_FAILURE
            } else {
                REFRESH_EVERY
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = changes.woken() => {}
                () = tokio::time::sleep(idle) => {}
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(pause) => {}
                () = changes.hurried() => {}
            }
            let started = std::time::Instant::now();
            failed = match self.refresh().await {
                Ok(()) => false,
                Err(e) => {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "re-rendering the public pages failed; trying again shortly"
                    );
                    true
                }
            };
            pause = (started.elapsed() * 2).clamp(DEBOUNCE, MAX_PAUSE);
        }
    }
}
