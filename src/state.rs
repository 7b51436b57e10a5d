//! The state handlers share, at the edge only (routes, startup): the core services take what
//! they need explicitly. Never global, so two apps can run in one process (the tests do).

use std::sync::Arc;

use crate::auth::Sessions;
use crate::config::Config;
use crate::db::Db;
use crate::domain::clock::Clock;
use crate::domain::limit::WindowLimit;
use crate::incidents::input::ComponentIndex;
use crate::metrics::Metrics;
use crate::monitoring::heartbeat::PingQueue;
use crate::monitoring::{Checker, Roster};
use crate::notify::Notifier;
use crate::render::Renderer;
use crate::render::export::Publisher;
use crate::scheduler::Scheduler;
use crate::subscribers::SignUpLimit;
use crate::writer::Writer;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    /// Every write goes through it; its events reach the renderer, the export and metrics.
    pub writer: Writer,
    pub clock: Arc<dyn Clock>,
    /// The configured monitors, with their rows.
    pub roster: Arc<Roster>,
    /// Monitor ids → rows, for owner requests that name components.
    pub components: Arc<ComponentIndex>,
    pub checker: Checker,
    /// Pings answered and not yet written.
    pub ping_queue: PingQueue,
    pub scheduler: Scheduler,
    pub renderer: Renderer,
    /// Writes the static site to `[publish] dir` after every change.
    pub publisher: Option<Arc<Publisher>>,
    /// Sends what the outbox holds.
    pub notifier: Notifier,
    pub sessions: Arc<Sessions>,
    /// Sign-ups for e-mail updates, limited per client.
    pub sign_ups: Arc<SignUpLimit>,
    /// Heartbeat pings per monitor (row id).
    pub pings: Arc<WindowLimit<i64>>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// The components the owner can pick: `(id, name)` in page order.
    pub fn choices(&self) -> Vec<(String, String)> {
        self.roster
            .iter()
            .map(|m| (m.spec.id.to_string(), m.spec.name.clone()))
            .collect()
    }

    /// Resolves once every change written so far shows on the pages and in the export.
    pub async fn settled(&self) {
        self.ping_queue.flush().await;
        self.renderer.settled().await;
        if let Some(publisher) = &self.publisher {
            publisher.settled().await;
        }
    }

    /// For an owner who waits to see their change: the pages without their debounce pause,
    /// and the export unless exports are failing (then it follows when it can).
    pub async fn settled_for_owner(&self) {
        self.renderer.settled_soon().await;
        if let Some(publisher) = self.publisher.as_ref().filter(|p| p.healthy()) {
            publisher.settled().await;
        }
    }
}
