//! The connectivity guard (`[connectivity] check = "tcp://host:port"`): before a failure
//! counts, the server checks its own connection. When the guard fails too, the checker is
//! offline: nothing is recorded against the sites, no incident opens, the page says so.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::ConnectivityConfig;
use crate::probe::Prober;

/// A guard answer is reused this long, so a burst of failures costs one connection.
const REUSE: Duration = Duration::from_secs(5);
/// The guard must answer within this.
const GUARD_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Default)]
pub struct Connectivity {
    guard: Option<ConnectivityConfig>,
    last_probe: Mutex<Option<(Instant, bool)>>,
    offline_since: Mutex<Option<DateTime<Utc>>>,
}

impl Connectivity {
    pub fn new(guard: Option<ConnectivityConfig>) -> Self {
        Self {
            guard,
            ..Self::default()
        }
    }

    /// When the checker went offline, while it is.
    pub fn offline_since(&self) -> Option<DateTime<Utc>> {
        *self.offline_since.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that something answered: we are online. True when that is news.
    pub fn note_online(&self) -> bool {
        self.offline_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .is_some()
    }

    /// Asks the guard (or reuses a fresh answer). Returns `(online, changed)`.
    pub async fn check(&self) -> (bool, bool) {
        let Some(guard) = &self.guard else {
            return (true, false);
        };
        let cached = *self.last_probe.lock().unwrap_or_else(|p| p.into_inner());
        let online = match cached {
            Some((at, online)) if at.elapsed() < REUSE => online,
            _ => {
                let online = Prober::can_connect(&guard.host, guard.port, GUARD_TIMEOUT).await;
                *self.last_probe.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((Instant::now(), online));
                online
            }
        };
        let mut since = self.offline_since.lock().unwrap_or_else(|p| p.into_inner());
        let changed = since.is_some() == online;
        match (online, since.is_some()) {
            (true, _) => *since = None,
            (false, false) => {
                *since = Some(Utc::now());
                tracing::warn!(guard = %format!("{}:{}", guard.host, guard.port), "checker offline: failures are not counted");
            }
            (false, true) => {}
        }
        (online, changed)
    }
}
