//! The state shared by handlers and background jobs. Explicit, never global, so two apps can
//! run in one process (the tests do).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::Sessions;
use crate::config::Config;
use crate::connectivity::Connectivity;
use crate::db::Db;
use crate::domain::monitor::MonitorSpec;
use crate::metrics::Metrics;
use crate::probe::Prober;
use crate::recorder::Recorder;
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
    pub connectivity: Arc<Connectivity>,
    /// Writes the static site to `[publish] dir` after every change.
    pub exporter: Arc<crate::render::export::Exporter>,
    /// The batching writer of check results.
    pub recorder: Recorder,
    /// When this server started (heartbeats without a ping yet count their grace from here).
    pub started_at: DateTime<Utc>,
}

impl AppState {
    /// The database row of a configured monitor, by its id.
    pub fn monitor_row(&self, key: &str) -> Option<i64> {
        self.monitors
            .iter()
            .find(|m| m.spec.id.as_str() == key)
            .map(|m| m.row_id)
    }

    /// The heartbeat monitor whose token this is. Every token is compared, in constant time.
    pub fn heartbeat_by_token(&self, token: &str) -> Option<Arc<MonitorHandle>> {
        use sha2::{Digest, Sha256};
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for monitor in self.monitors.iter() {
            if let crate::domain::monitor::ProbeSpec::Heartbeat(hb) = &monitor.spec.probe
                && crate::auth::same_secret(&hb.token_sha256, &digest)
            {
                found = Some(monitor.clone());
            }
        }
        found
    }

    /// Configured monitor ids, for error messages.
    pub fn monitor_keys(&self) -> String {
        let keys: Vec<&str> = self.monitors.iter().map(|m| m.spec.id.as_str()).collect();
        keys.join(", ")
    }
}
