//! The one writer of check results. Results queue up here and are written in batches — one
//! transaction for everything that arrived while the previous batch was being written — so
//! thousands of monitors cost few commits, and one check never waits behind another's I/O.

use std::sync::Arc;

use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, monitors};
use crate::domain::check::CheckResult;
use crate::domain::heartbeat;
use crate::domain::status::Change;
use crate::monitoring;
use crate::state::MonitorHandle;

/// Results written in one transaction at most.
const MAX_BATCH: usize = 512;
/// Results waiting to be written before senders wait (back-pressure on the probes).
const QUEUE: usize = 4_096;

/// What to write besides the result itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    None,
    /// A heartbeat ping `(at, failed)` to store with its result.
    Ping(DateTime<Utc>, bool),
    /// The result is a heartbeat deadline verdict: decide it again on the writer, against the
    /// last ping as stored now, so a ping that arrived meanwhile is never overruled.
    RecheckHeartbeat {
        grace: Duration,
        watching_since: DateTime<Utc>,
    },
}

struct Job {
    monitor: Arc<MonitorHandle>,
    result: CheckResult,
    extra: Extra,
    reply: oneshot::Sender<anyhow::Result<Option<Change>>>,
}

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the writer task; it ends when every `Recorder` clone is dropped.
    pub fn start(db: Db) -> Self {
        let (queue, mut jobs) = mpsc::channel::<Job>(QUEUE);
        tokio::spawn(async move {
            while let Some(first) = jobs.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let db = db.clone();
                if let Err(e) = tokio::task::spawn_blocking(move || write(&db, batch)).await {
                    tracing::error!(error = %e, "the check writer task failed");
                }
            }
        });
        Self { queue }
    }

    /// Writes one result (and its extra) and returns the monitor's change of health, if any.
    pub async fn record(
        &self,
        monitor: Arc<MonitorHandle>,
        result: CheckResult,
        extra: Extra,
    ) -> anyhow::Result<Option<Change>> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job {
                monitor,
                result,
                extra,
                reply,
            })
            .await
            .map_err(|_| anyhow::anyhow!("the check writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the check writer dropped a result"))?
    }
}

/// One transaction for the batch; each job in its own savepoint, so one failure loses only
/// its own result.
fn write(db: &Db, batch: Vec<Job>) {
    let mut replies = Vec::with_capacity(batch.len());
    let outcome = db.write_blocking(|tx| {
        for job in batch {
            tx.execute_batch("SAVEPOINT job")?;
            match one(tx, &job) {
                Ok(change) => {
                    tx.execute_batch("RELEASE job")?;
                    replies.push((job.reply, Ok(change)));
                }
                Err(e) => {
                    tx.execute_batch("ROLLBACK TO job; RELEASE job")?;
                    replies.push((
                        job.reply,
                        Err(anyhow::Error::new(e).context("recording a check failed")),
                    ));
                }
            }
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            for (reply, result) in replies {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let message = format!("{e:#}");
            for (reply, _) in replies {
                let _ = reply.send(Err(anyhow::anyhow!("the batch was not written: {message}")));
            }
        }
    }
}

fn one(conn: &Connection, job: &Job) -> rusqlite::Result<Option<Change>> {
    let row = job.monitor.row_id;
    match job.extra {
        Extra::None => monitoring::record(conn, &job.monitor, &job.result),
        Extra::Ping(at, failed) => {
            monitors::record_ping(conn, row, at, failed)?;
            monitoring::record(conn, &job.monitor, &job.result)
        }
        Extra::RecheckHeartbeat {
            grace,
            watching_since,
        } => {
            let last =
                monitors::last_ping(conn, row)?.map(|(at, failed)| heartbeat::Ping { at, failed });
            match heartbeat::verdict(last, grace, watching_since, job.result.at) {
                Some(fresh) => monitoring::record(conn, &job.monitor, &fresh),
                None => Ok(None),
            }
        }
    }
}
