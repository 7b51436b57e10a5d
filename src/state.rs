//! The state shared by handlers and background jobs. Explicit, never global, so two apps can
//! run in one process (the tests do).

use std::sync::Arc;

use crate::auth::Sessions;
use crate::config::Config;
use crate::db::Db;
use crate::domain::monitor::MonitorSpec;
use crate::metrics::Metrics;
use crate::probe::Prober;
use crate::render::PageCache;

/// A configured monitor and its database row.
#[derive(Debug, Clone)]
pub struct MonitorHandle {
    pub spec: MonitorSpec,
    pub row_id: i64,
}

/// Everything a handler or job needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub prober: Prober,
    pub monitors: Arc<Vec<Arc<MonitorHandle>>>,
    pub cache: Arc<PageCache>,
    pub sessions: Arc<Sessions>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// The database row of a configured monitor, by its id.
    pub fn monitor_row(&self, key: &str) -> Option<i64> {
        self.monitors
            .iter()
            .find(|m| m.spec.id.as_str() == key)
            .map(|m| m.row_id)
    }

    /// Configured monitor ids, for error messages.
    pub fn monitor_keys(&self) -> String {
        let keys: Vec<&str> = self.monitors.iter().map(|m| m.spec.id.as_str()).collect();
        keys.join(", ")
    }
}
