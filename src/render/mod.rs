//! The read side: everything public is rendered once per change (and once a minute for the
//! "last checked" times) into memory; a request is a lookup.

pub mod badge;
pub mod cache;
pub mod export;
pub mod feeds;
pub mod pages;
pub mod site;
pub mod snapshot;
pub mod statuspage;

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

pub use cache::{PageCache, Rendered};
pub use snapshot::Snapshot;

use crate::config::Config;
use crate::state::AppState;
use site::Links;

/// Pages are re-rendered at least this often, so "last checked" stays fresh.
const REFRESH_EVERY: Duration = Duration::from_secs(60);
/// Changes arriving within this window are rendered together.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// However slow renders get, a change shows on the page within this (plus one render).
const MAX_PAUSE: Duration = Duration::from_secs(10);

/// Loads a snapshot and re-renders every public page into the cache.
pub async fn refresh(state: &AppState) -> anyhow::Result<()> {
    let _one_at_a_time = state.cache.refresh_lock().await;
    let days = state.config.page.history_days;
    let mut snapshot = state
        .db
        .read(move |conn| Ok(Snapshot::load(conn, days, Utc::now())?))
        .await?;
    snapshot.checker_offline_since = state.connectivity.offline_since();
    let files = site::render(&state.config, &snapshot, &Links::server())?;
    for c in &snapshot.components {
        state.metrics.set_status(&c.monitor.key, c.status);
    }
    state.cache.store(files, snapshot.generated_at);
    let offline_since = snapshot.checker_offline_since;
    state.cache.set_snapshot(snapshot);
    if let Some(dir) = state.config.publish.clone() {
        let (config, exporter) = (state.config.clone(), state.exporter.clone());
        let published = state
            .db
            .read(move |conn| exporter.export(&config, conn, &dir, Utc::now(), offline_since))
            .await;
        if let Err(e) = published {
            tracing::error!(
                error = format!("{e:#}"),
                "publishing the static site failed"
            );
        }
    }
    Ok(())
}

/// A page rendered on first request: from the cache, or rendered now by `render` and kept
/// until the next change. `None` when `render` finds nothing to show.
pub async fn lazy_page<F>(
    state: &AppState,
    path: &str,
    render: F,
) -> anyhow::Result<Option<std::sync::Arc<Rendered>>>
where
    F: FnOnce(
            &Config,
            &rusqlite::Connection,
            &Links,
            chrono::DateTime<Utc>,
        ) -> rusqlite::Result<Option<cache::File>>
        + Send
        + 'static,
{
    if let Some(found) = state.cache.get(path) {
        return Ok(Some(found));
    }
    let generation = state.cache.generation();
    let config = state.config.clone();
    let file = state
        .db
        .read(move |conn| Ok(render(&config, conn, &Links::server(), Utc::now())?))
        .await?;
    Ok(file.map(|f| state.cache.insert_lazy(f, generation, Utc::now())))
}

/// Re-renders on every invalidation and every [`REFRESH_EVERY`], until `stop`. Changes that
/// arrive while waiting are rendered together; the wait grows with the cost of a render (twice
/// the last one), so a page of thousands of components never takes more than a third of a core.
pub async fn run(state: AppState, stop: CancellationToken) {
    let mut pause = DEBOUNCE;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = state.cache.changed() => {}
            () = tokio::time::sleep(REFRESH_EVERY) => {}
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
        let started = std::time::Instant::now();
        if let Err(e) = refresh(&state).await {
            tracing::error!(
                error = format!("{e:#}"),
                "re-rendering the public pages failed"
            );
        }
        pause = (started.elapsed() * 2).clamp(DEBOUNCE, MAX_PAUSE);
    }
}
