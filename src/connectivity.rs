//! The connectivity guard (`[connectivity] check = "tcp://host:port"`): before a failure
//! counts, the server checks its own connection. When the guard fails too, the checker is
//! offline: nothing is recorded against the sites, no incident opens, the page says so.
//! Going offline and coming back are changes like any other: `CheckerOffline` and
//! `CheckerOnline`, written through the writer (so the owner is told) in the order they happen.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::ConnectivityConfig;
use crate::domain::clock::Clock;
use crate::events::Event;
use crate::probe::Prober;
use crate::writer::Writer;

/// A guard answer is reused this long, so a burst of failures costs one connection.
const REUSE: Duration = Duration::from_secs(5);
/// The guard must answer within this.
const GUARD_TIMEOUT: Duration = Duration::from_secs(3);

pub struct Connectivity {
    guard: Option<ConnectivityConfig>,
    clock: Arc<dyn Clock>,
    writer: Writer,
    /// The last guard answer. Held across the probe: one guard probe at a time, and every
    /// monitor that fails meanwhile waits for its answer instead of probing again.
    last_probe: tokio::sync::Mutex<Option<(DateTime<Utc>, bool)>>,
    /// When the checker went offline. Held while the change is written, so `CheckerOffline`
    /// and `CheckerOnline` are published in the order they happened.
    offline_since: tokio::sync::Mutex<Option<DateTime<Utc>>>,
    /// A lock-free copy of "offline", so every good check does not take the lock.
    offline: AtomicBool,
}

impl Connectivity {
    pub fn new(guard: Option<ConnectivityConfig>, clock: Arc<dyn Clock>, writer: Writer) -> Self {
        Self {
            guard,
            clock,
            writer,
            last_probe: tokio::sync::Mutex::new(None),
            offline_since: tokio::sync::Mutex::new(None),
            offline: AtomicBool::new(false),
        }
    }

    /// Something answered: we are online (a change, if we were not).
    pub async fn note_online(&self) {
        if !self.offline.load(Ordering::Acquire) {
            return;
        }
        let mut since = self.offline_since.lock().await;
        if since.take().is_none() {
            return;
        }
        self.offline.store(false, Ordering::Release);
        tracing::info!("checker online again: failures count again");
        self.write(Event::CheckerOnline {
            at: self.clock.now(),
        })
        .await;
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
            self.note_online().await;
            return true;
        }
        let mut since = self.offline_since.lock().await;
        if since.is_none() {
            let now = self.clock.now();
            *since = Some(now);
            self.offline.store(true, Ordering::Release);
            tracing::warn!(guard = %format!("{}:{}", guard.host, guard.port), "checker offline: failures are not counted");
            self.write(Event::CheckerOffline { since: now }).await;
        }
        false
    }

    async fn write(&self, event: Event) {
        if let Err(e) = self.writer.run(move |tx| Ok(tx.emit(event)?)).await {
            tracing::error!(
                error = format!("{e:#}"),
                "recording the checker's connectivity failed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Db;
    use crate::domain::clock::SystemClock;
    use crate::events::Bus;

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
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("t.db")).expect("db");
        let writer = Writer::start(db, Bus::new(), Vec::new());
        let connectivity = Arc::new(Connectivity::new(
            Some(guard),
            Arc::new(SystemClock),
            writer,
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
