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
/// Offline ends after this many guard answers in a row (each a fresh probe, at least
/// [`REUSE`] apart): one answer of a flapping uplink is not a connection that holds.
const ONLINE_AFTER: u32 = 2;

pub struct Connectivity {
    guard: Option<ConnectivityConfig>,
    clock: Arc<dyn Clock>,
    writer: Writer,
    /// The last guard answer. Held across the probe: one guard probe at a time, and every
    /// monitor that fails meanwhile waits for its answer instead of probing again.
    /// When it answered is a monotonic reading: a wall-clock step neither keeps an answer
    /// for an hour nor throws it away.
    last_probe: tokio::sync::Mutex<Option<(std::time::Instant, bool)>>,
    /// The offline episode under way, if any. Held while a change is written, so
    /// `CheckerOffline` and `CheckerOnline` are published in the order they happened.
    episode: tokio::sync::Mutex<Episode>,
    /// A lock-free copy of "offline", so every good check does not take the lock.
    offline: AtomicBool,
}

/// An offline episode: since when, and the guard's answers in a row since it last refused.
#[derive(Default)]
struct Episode {
    since: Option<DateTime<Utc>>,
    answers: u32,
}

impl Connectivity {
    pub fn new(guard: Option<ConnectivityConfig>, clock: Arc<dyn Clock>, writer: Writer) -> Self {
        Self {
            guard,
            clock,
            writer,
            last_probe: tokio::sync::Mutex::new(None),
            episode: tokio::sync::Mutex::default(),
            offline: AtomicBool::new(false),
        }
    }

    /// A site answered. While offline that proves nothing — a host on the LAN answers through
    /// an internet outage — so the guard is asked: only its own answers end the episode.
    pub async fn note_online(&self) {
        if self.offline.load(Ordering::Acquire) {
            let _ = self.check().await;
        }
    }

    /// Asks the guard, or reuses a fresh answer. True when the checker is online: offline is
    /// declared once per episode, on the guard's first refusal, and ends after
    /// [`ONLINE_AFTER`] answers in a row.
    pub async fn check(&self) -> bool {
        let Some(guard) = &self.guard else {
            return true;
        };
        let (answered, fresh) = self.ask(guard).await;
        let mut episode = self.episode.lock().await;
        if episode.since.is_none() {
            if answered {
                return true;
            }
            let now = self.clock.now();
            *episode = Episode {
                since: Some(now),
                answers: 0,
            };
            self.offline.store(true, Ordering::Release);
            tracing::warn!(guard = %format!("{}:{}", guard.host, guard.port), "checker offline: failures are not counted");
            self.write(Event::CheckerOffline { since: now }).await;
            return false;
        }
        if fresh {
            episode.answers = if answered { episode.answers + 1 } else { 0 };
        }
        if episode.answers < ONLINE_AFTER {
            return false;
        }
        *episode = Episode::default();
        self.offline.store(false, Ordering::Release);
        tracing::info!("checker online again: failures count again");
        self.write(Event::CheckerOnline {
            at: self.clock.now(),
        })
        .await;
        true
    }

    /// The guard's answer, and whether it is fresh (probed now, not reused).
    async fn ask(&self, guard: &ConnectivityConfig) -> (bool, bool) {
        let mut last = self.last_probe.lock().await;
        let now = self.clock.monotonic();
        match *last {
            Some((at, online)) if now.saturating_duration_since(at) < REUSE => (online, false),
            _ => {
                let online = Prober::can_connect(&guard.host, guard.port, GUARD_TIMEOUT).await;
                *last = Some((self.clock.monotonic(), online));
                (online, true)
            }
        }
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
