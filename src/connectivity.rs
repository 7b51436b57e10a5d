//! The connectivity guard (`[connectivity] check = "tcp://host:port"`): before a failure
//! counts, the server checks its own connection. When the guard fails too, the checker is
//! offline: nothing is recorded against the sites, no incident opens, the page says so
//! (`CheckerOffline` / `CheckerOnline` on the change stream).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::ConnectivityConfig;
use crate::domain::clock::Clock;
use crate::events::{Bus, Event};
use crate::probe::Prober;

/// A guard answer is reused this long, so a burst of failures costs one connection.
const REUSE: Duration = Duration::from_secs(5);
/// The guard must answer within this.
const GUARD_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Connectivity {
    guard: Option<ConnectivityConfig>,
    clock: Arc<dyn Clock>,
    bus: Bus,
    /// The last guard answer. Held across the probe: one guard probe at a time, and every
    /// monitor that fails meanwhile waits for its answer instead of probing again.
    last_probe: tokio::sync::Mutex<Option<(DateTime<Utc>, bool)>>,
    offline_since: Mutex<Option<DateTime<Utc>>>,
}

impl Connectivity {
    pub fn new(guard: Option<ConnectivityConfig>, clock: Arc<dyn Clock>, bus: Bus) -> Self {
        Self {
            guard,
            clock,
            bus,
            last_probe: tokio::sync::Mutex::new(None),
            offline_since: Mutex::new(None),
        }
    }

    /// Something answered: we are online (news on the change stream if we were not).
    pub fn note_online(&self) {
        let was_offline = self
            .offline_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .is_some();
        if was_offline {
            tracing::info!("checker online again: failures count again");
            self.bus.publish(&[Event::CheckerOnline {
                at: self.clock.now(),
            }]);
        }
    }

    /// Asks the guard, or reuses a fresh answer. True when the checker is online.
    pub async fn check(&self) -> bool {
        let Some(guard) = &self.guard else {
            return true;
        };
        let online = {
            let mut last = self.last_probe.lock().await;
            let now = self.clock.now();
            match *last {
                Some((at, online)) if (now - at).to_std().is_ok_and(|age| age < REUSE) => online,
                _ => {
                    let online = Prober::can_connect(&guard.host, guard.port, GUARD_TIMEOUT).await;
                    *last = Some((self.clock.now(), online));
                    online
                }
            }
        };
        if online {
            self.note_online();
            return true;
        }
        let went_offline = {
            let mut since = self.offline_since.lock().unwrap_or_else(|p| p.into_inner());
            match *since {
                Some(_) => None,
                None => {
                    let now = self.clock.now();
                    *since = Some(now);
                    Some(now)
                }
            }
        };
        if let Some(since) = went_offline {
            tracing::warn!(guard = %format!("{}:{}", guard.host, guard.port), "checker offline: failures are not counted");
            self.bus.publish(&[Event::CheckerOffline { since }]);
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::clock::SystemClock;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn monitors_failing_at_once_share_one_guard_probe() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (accepted, mut peers) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((_, peer)) = listener.accept().await {
                let _ = accepted.send(peer.port());
            }
        });
        let guard = ConnectivityConfig {
            host: "127.0.0.1".into(),
            port,
        };
        let connectivity = Arc::new(Connectivity::new(
            Some(guard),
            Arc::new(SystemClock),
            Bus::new(),
        ));
        let checks: Vec<_> = (0..20)
            .map(|_| {
                let c = connectivity.clone();
                tokio::spawn(async move { c.check().await })
            })
            .collect();
        for check in checks {
            assert!(check.await.expect("task"), "online");
        }
        // Connections are accepted in order: once this marker is, every guard probe was.
        let marker = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("marker");
        let marker = marker.local_addr().expect("addr").port();
        let mut probes = 0;
        while let Some(peer) = peers.recv().await {
            if peer == marker {
                break;
            }
            probes += 1;
        }
        assert_eq!(probes, 1, "one guard probe for twenty failing monitors");
    }
}
