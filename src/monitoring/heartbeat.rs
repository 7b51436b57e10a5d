//! Heartbeats: background jobs ping us when a run starts, succeeds or fails; they are not
//! probed. A ping is answered at once and queued: one task writes the queue in order (a
//! start before the success that follows it). The deadlines — a run expected and not
//! reported, a run started and not finished — are judged on a schedule.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};

use crate::db::{monitors, pings};
use crate::domain::check::{CheckResult, Verdict};
use crate::domain::heartbeat::{self, HeartbeatSpec, Signal};
use crate::domain::status::{Change, Health};
use crate::events::Event;

use super::{Checker, Monitor, log_change, record};

/// Routine pings are written as a check at most this often.
pub const ROUTINE_PINGS_RECORDED_EVERY: Duration = Duration::from_secs(60);

/// Of what a job sends with a ping, this much is kept (its output's first lines).
pub const KEPT_BODY_BYTES: usize = 10 * 1024;

/// Pings waiting to be written; past this many a ping is refused (503) rather than queued.
const QUEUE: usize = 4_096;

enum Job {
    Ping(Received),
    Flush(oneshot::Sender<()>),
}

struct Received {
    monitor: Arc<Monitor>,
    signal: Signal,
    at: DateTime<Utc>,
    body: Option<String>,
}

/// The queue of pings answered and not yet written. Cheap to clone.
#[derive(Clone)]
pub struct PingQueue {
    sender: mpsc::Sender<Job>,
    checker: Checker,
}

/// The queue is full: the writer is far behind.
#[derive(Debug)]
pub struct QueueFull;

impl PingQueue {
    /// Starts the task that writes the queued pings; it ends when every clone is dropped.
    pub fn start(checker: Checker) -> Self {
        let (sender, mut receiver) = mpsc::channel(QUEUE);
        let writer = checker.clone();
        tokio::spawn(async move {
            while let Some(job) = receiver.recv().await {
                match job {
                    Job::Ping(p) => {
                        if let Err(e) = ping(&writer, &p.monitor, p.signal, p.at, p.body).await {
                            tracing::error!(monitor = %p.monitor.spec.id, error = format!("{e:#}"), "recording a ping failed");
                        }
                    }
                    Job::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Self { sender, checker }
    }

    /// Queues a ping, dated now; never waits.
    pub fn offer(
        &self,
        monitor: Arc<Monitor>,
        signal: Signal,
        body: Option<String>,
    ) -> Result<(), QueueFull> {
        let at = self.checker.clock.now();
        self.sender
            .try_send(Job::Ping(Received {
                monitor,
                signal,
                at,
                body,
            }))
            .map_err(|_| QueueFull)
    }

    /// Resolves once every ping queued before the call is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.sender.send(Job::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }
}

/// The first [`KEPT_BODY_BYTES`] of a body, as text (cut at a character boundary; invalid
/// UTF-8 replaced); `None` when empty.
pub fn kept_body(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(KEPT_BODY_BYTES)]);
    let mut end = text.len().min(KEPT_BODY_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let kept = text[..end].trim_end_matches('\u{FFFD}');
    (!kept.trim().is_empty()).then(|| kept.to_string())
}

/// Records a ping and applies the verdict it leads to as a check. The verdict is decided on
/// the writer, against the job's state as stored there.
pub async fn ping(
    checker: &Checker,
    monitor: &Arc<Monitor>,
    signal: Signal,
    at: DateTime<Utc>,
    body: Option<String>,
) -> anyhow::Result<Option<Change>> {
    let Some(spec) = monitor.spec.heartbeat().cloned() else {
        return Ok(None);
    };
    let watching_since = checker.started_at;
    let job_monitor = monitor.clone();
    let outcome = checker
        .writer
        .run(move |tx| {
            let row = job_monitor.row;
            let (state, duration) = pings::job_state(tx, row)?.after(signal, at);
            let stored = pings::NewPing {
                at,
                signal,
                duration,
                body: body.as_deref(),
            };
            pings::record(tx, row, &state, &stored)?;
            if signal != Signal::Start {
                tx.emit(Event::JobRan {
                    monitor: job_monitor.spec.id.clone(),
                    at,
                    succeeded: matches!(signal, Signal::Success { .. }),
                    duration,
                })?;
            }
            let result = heartbeat::verdict(&spec, &state, watching_since, at)
                .unwrap_or_else(|| CheckResult::up(at, Duration::ZERO));
            if is_routine(tx, &job_monitor, &result)? {
                return Ok(None);
            }
            let reason = result.reason.clone();
            Ok(record::record(tx, &job_monitor, &result)?.map(|c| (c, reason)))
        })
        .await?;
    Ok(outcome.map(|(change, reason)| {
        log_change(monitor, &change, reason.as_deref(), at);
        change
    }))
}

/// A good ping from a job that is up, with a good check recorded within
/// [`ROUTINE_PINGS_RECORDED_EVERY`], changes nothing: it is kept as a ping only, so a job
/// (or anyone with its token) pinging in a loop writes one check a minute, not one per
/// request. Failed pings are always recorded: each counts towards `failures_before_down`.
fn is_routine(
    tx: &rusqlite::Connection,
    monitor: &Monitor,
    result: &CheckResult,
) -> rusqlite::Result<bool> {
    if result.verdict != Verdict::Up {
        return Ok(false);
    }
    let state = monitors::load_state(tx, monitor.row)?;
    if state.health != Health::Up {
        return Ok(false);
    }
    Ok(match monitors::last_check(tx, monitor.row)? {
        Some((at, verdict)) => {
            verdict == Verdict::Up.code()
                && (result.at - at)
                    .to_std()
                    .is_ok_and(|age| age < ROUTINE_PINGS_RECORDED_EVERY)
        }
        None => false,
    })
}

/// Judges the deadlines now. The verdict is decided on the writer, against the job's state
/// as stored there, so a ping that arrived meanwhile is never overruled.
pub(super) async fn deadline(
    checker: &Checker,
    monitor: &Arc<Monitor>,
    spec: &HeartbeatSpec,
) -> anyhow::Result<Option<Change>> {
    let now = checker.clock.now();
    let watching_since = checker.started_at;
    let (job_monitor, spec) = (monitor.clone(), spec.clone());
    let outcome = checker
        .writer
        .run(move |tx| {
            let state = pings::job_state(tx, job_monitor.row)?;
            match heartbeat::verdict(&spec, &state, watching_since, now) {
                Some(result) => {
                    let reason = result.reason.clone();
                    Ok(record::record(tx, &job_monitor, &result)?.map(|c| (c, reason)))
                }
                None => Ok(None),
            }
        })
        .await?;
    Ok(outcome.map(|(change, reason)| {
        log_change(monitor, &change, reason.as_deref(), now);
        change
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_keep_their_first_ten_kib_as_text() {
        assert_eq!(kept_body(b""), None);
        assert_eq!(kept_body(b"  \n"), None);
        assert_eq!(kept_body(b"done\n").as_deref(), Some("done\n"));
        let long = "é".repeat(KEPT_BODY_BYTES);
        let kept = kept_body(long.as_bytes()).expect("kept");
        assert!(kept.len() <= KEPT_BODY_BYTES && kept.chars().all(|c| c == 'é'));
        assert_eq!(kept.len(), KEPT_BODY_BYTES);
        let binary = kept_body(&[0xff, b'o', b'k']).expect("kept");
        assert_eq!(binary, "\u{FFFD}ok");
    }
}
