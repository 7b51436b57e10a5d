//! Heartbeats: background jobs ping us after every run; they are not probed. A ping is
//! written as a check; the deadline (no ping within `grace`) is judged on a schedule.

use std::sync::Arc;
use std::time::Duration;

use crate::db::monitors;
use crate::domain::check::{CheckResult, Verdict};
use crate::domain::heartbeat::{self, HeartbeatSpec, Ping};
use crate::domain::status::{Change, Health};

use super::{Checker, Monitor, log_change, record};

/// Routine pings are written as a check at most this often.
pub const ROUTINE_PINGS_RECORDED_EVERY: Duration = Duration::from_secs(60);

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
            if is_routine(tx, &job_monitor, &result)? {
                return Ok(None);
            }
            Ok(record::record(tx, &job_monitor, &result)?)
        })
        .await?;
    if let Some(change) = &change {
        log_change(monitor, change, reason.as_deref(), now);
    }
    Ok(change)
}

/// A good ping from a job that is up, with a good check recorded within
/// [`ROUTINE_PINGS_RECORDED_EVERY`], changes nothing: it is kept as the last ping only, so a
/// job (or anyone with its token) pinging in a loop writes one check a minute, not one per
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
