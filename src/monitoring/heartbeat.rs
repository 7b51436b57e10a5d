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
use crate::supervisor::{Stage, Supervisor};
use crate::writer::Tx;
use tokio_util::sync::CancellationToken;

use super::{Checker, Monitor, log_change, record};

/// Routine pings are written as a check at most this often.
pub const ROUTINE_PINGS_RECORDED_EVERY: Duration = Duration::from_secs(60);

/// Of what a job sends with a ping, this much is kept (its output's first lines).
pub const KEPT_BODY_BYTES: usize = 10 * 1024;

/// Pings waiting to be written; past this many a ping is refused (503) rather than queued.
const QUEUE: usize = 4_096;

/// Pings written in one write job, at most.
const BATCH: usize = 256;

pub(super) enum Job {
    Ping(Received),
    Flush(oneshot::Sender<()>),
}

pub(super) struct Received {
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
    /// Dating a ping and queueing it happen together, so the queue is in time order.
    order: Arc<std::sync::Mutex<()>>,
}

/// The queue is full: the writer is far behind.
#[derive(Debug)]
pub struct QueueFull;

impl PingQueue {
    /// Starts the task that writes the queued pings, in order, as many as wait in one write
    /// job, under `supervisor` in `stage` (restarted should it fail); it ends when the stage
    /// stops, after writing what was queued. The checker's deadlines wait for it.
    pub fn start(checker: Checker, supervisor: &Supervisor, stage: &Stage) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let _ = checker.pings.set(sender.downgrade());
        let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
        let writer = checker.clone();
        supervisor.spawn_restarting("ping queue", stage, move |stop| {
            write_queue(writer.clone(), receiver.clone(), stop)
        });
        Self {
            sender,
            checker,
            order: Arc::default(),
        }
    }

    /// Queues a ping, dated now; never waits.
    pub fn offer(
        &self,
        monitor: Arc<Monitor>,
        signal: Signal,
        body: Option<String>,
    ) -> Result<(), QueueFull> {
        let _in_order = self.order.lock().unwrap_or_else(|p| p.into_inner());
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
        flush(&self.sender).await;
    }
}

/// Writes the queued pings until `stop`; then what is still queued, and ends.
async fn write_queue(
    checker: Checker,
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    stop: CancellationToken,
) {
    let mut receiver = receiver.lock().await;
    let mut jobs = Vec::with_capacity(BATCH);
    let mut closed = false;
    loop {
        let got = tokio::select! {
            got = receiver.recv_many(&mut jobs, BATCH) => got,
            () = stop.cancelled(), if !closed => {
                receiver.close();
                closed = true;
                continue;
            }
        };
        if got == 0 {
            return;
        }
        let mut pings = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Ping(p) => pings.push(p),
                Job::Flush(done) => {
                    write(&checker, std::mem::take(&mut pings)).await;
                    let _ = done.send(());
                }
            }
        }
        write(&checker, pings).await;
    }
}

/// Resolves once every ping queued on `sender` before the call is written.
pub(super) async fn flush(sender: &mpsc::Sender<Job>) {
    let (done, written) = oneshot::channel();
    if sender.send(Job::Flush(done)).await.is_ok() {
        let _ = written.await;
    }
}

/// Writes `pings` in one write job, in order; a failure is logged (the pings are lost, their
/// answer was given).
async fn write(checker: &Checker, pings: Vec<Received>) {
    if pings.is_empty() {
        return;
    }
    let count = pings.len();
    match apply(checker, pings).await {
        Ok(changes) => {
            for (monitor, change, reason, at) in changes {
                log_change(&monitor, &change, reason.as_deref(), at);
            }
        }
        Err(e) => {
            tracing::error!(
                pings = count,
                error = format!("{e:#}"),
                "recording pings failed"
            )
        }
    }
}

type Applied = Vec<(Arc<Monitor>, Change, Option<String>, DateTime<Utc>)>;

/// Records each ping and applies the verdict it leads to as a check, on the writer, against
/// the job's state as stored there.
async fn apply(checker: &Checker, pings: Vec<Received>) -> anyhow::Result<Applied> {
    let watching_since = checker.started_at;
    checker
        .writer
        .run(move |tx| {
            let mut changes = Vec::new();
            for p in pings {
                if let Some((change, reason)) = record_ping(tx, &p, watching_since)? {
                    changes.push((p.monitor.clone(), change, reason, p.at));
                }
            }
            Ok(changes)
        })
        .await
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

/// One ping's part of the write job: the ping row, the job's state, the run's event, and
/// the verdict as a check (unless routine).
fn record_ping(
    tx: &mut Tx<'_>,
    p: &Received,
    watching_since: DateTime<Utc>,
) -> rusqlite::Result<Option<(Change, Option<String>)>> {
    let Some(spec) = p.monitor.spec.heartbeat() else {
        return Ok(None);
    };
    let (row, at, signal) = (p.monitor.row, p.at, p.signal);
    let (state, duration) = pings::job_state(tx, row)?.after(signal, at);
    let stored = pings::NewPing {
        at,
        signal,
        duration,
        body: p.body.as_deref(),
    };
    pings::record(tx, row, &state, &stored)?;
    if signal != Signal::Start {
        tx.emit(Event::JobRan {
            monitor: p.monitor.spec.id.clone(),
            at,
            succeeded: matches!(signal, Signal::Success { .. }),
            duration,
        })?;
    }
    let result = heartbeat::verdict(spec, &state, watching_since, at)
        .unwrap_or_else(|| CheckResult::up(at, Duration::ZERO));
    if is_routine(tx, &p.monitor, &result)? {
        return Ok(None);
    }
    let reason = result.reason.clone();
    Ok(record::record(tx, &p.monitor, &result)?.map(|c| (c, reason)))
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
    // Pings answered before now are judged first: a deadline never overtakes them.
    if let Some(queue) = checker.pings.get().and_then(mpsc::WeakSender::upgrade) {
        flush(&queue).await;
    }
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
