//! Heartbeats: background jobs ping us after every run; they are not probed. A ping is
//! written as a check; the deadline (no ping within `grace`) is judged on a schedule.

use std::sync::Arc;
use std::time::Duration;

use crate::db::monitors;
use crate::domain::check::CheckResult;
use crate::domain::heartbeat::{self, HeartbeatSpec, Ping};
use crate::domain::status::Change;

use super::{Checker, Monitor, log_change, record};

/// Records a ping (a failed run when `failed`) and applies it as a check.
pub async fn ping(
    checker: &Checker,
    monitor: &Arc<Monitor>,
    failed: bool,
) -> anyhow::Result<Option<Change>> {
    let now = checker.clock.now();
    let ping = Ping { at: now, failed };
    let result = heartbeat::verdict(Some(ping), Duration::MAX, now, now)
        .unwrap_or_else(|| CheckResult::up(now, Duration::ZERO));
    let reason = result.reason.clone();
    let job_monitor = monitor.clone();
    let change = checker
        .writer
        .run(move |tx| {
            monitors::record_ping(tx, job_monitor.row, now, failed)?;
            Ok(record::record(tx, &job_monitor, &result)?)
        })
        .await?;
    if let Some(change) = &change {
        log_change(monitor, change, reason.as_deref(), now);
    }
    Ok(change)
}

/// Judges the deadline now. The verdict is decided on the writer, against the last ping as
/// stored there, so a ping that arrived meanwhile is never overruled.
pub(super) async fn deadline(
    checker: &Checker,
    monitor: &Arc<Monitor>,
    spec: &HeartbeatSpec,
) -> anyhow::Result<Option<Change>> {
    let now = checker.clock.now();
    let (grace, watching_since) = (spec.grace, checker.started_at);
    let job_monitor = monitor.clone();
    let outcome = checker
        .writer
        .run(move |tx| {
            let last =
                monitors::last_ping(tx, job_monitor.row)?.map(|(at, failed)| Ping { at, failed });
            match heartbeat::verdict(last, grace, watching_since, now) {
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
