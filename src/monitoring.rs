//! Applying a check result: record it, run the state machine, react to changes — one
//! transaction per result, so a crash never leaves a check without its bucket or state.

use std::sync::Arc;

use chrono::Utc;
use rusqlite::Connection;

use crate::db::{checks, monitors, uptime};
use crate::domain::check::{CheckResult, Verdict};
use crate::domain::duration::format_span;
use crate::domain::heartbeat;
use crate::domain::monitor::ProbeSpec;
use crate::domain::status::{Change, Health};
use crate::incidents::automatic::{self, Subject};
use crate::recorder::Extra;
use crate::state::{AppState, MonitorHandle};

/// Checks a monitor once (a heartbeat: looks at its last ping) and applies the result.
/// A failure while the connectivity guard fails too is not recorded: the checker is offline.
pub async fn run_check(
    state: &AppState,
    monitor: &Arc<MonitorHandle>,
) -> anyhow::Result<Option<Change>> {
    let mut extra = Extra::None;
    let result = match &monitor.spec.probe {
        ProbeSpec::Heartbeat(spec) => {
            extra = Extra::RecheckHeartbeat {
                grace: spec.grace,
                watching_since: state.started_at,
            };
            let row = monitor.row_id;
            let last = state
                .db
                .read(move |c| Ok(monitors::last_ping(c, row)?))
                .await?;
            let last = last.map(|(at, failed)| heartbeat::Ping { at, failed });
            heartbeat::verdict(last, spec.grace, state.started_at, Utc::now())
        }
        _ => state.prober.check(&monitor.spec).await,
    };
    let Some(result) = result else {
        return Ok(None);
    };
    if result.verdict == Verdict::Down {
        let (online, changed) = state.connectivity.check().await;
        if changed {
            state.cache.invalidate();
        }
        if !online {
            return Ok(None);
        }
    } else if state.connectivity.note_online() {
        state.cache.invalidate();
    }
    apply_with(state, monitor, result, extra).await
}

/// Records a heartbeat ping (a failed run when `failed`) and applies it as a check.
pub async fn ping(
    state: &AppState,
    monitor: &Arc<MonitorHandle>,
    failed: bool,
) -> anyhow::Result<Option<Change>> {
    let now = Utc::now();
    let ping = heartbeat::Ping { at: now, failed };
    let result = heartbeat::verdict(Some(ping), std::time::Duration::MAX, now, now)
        .unwrap_or_else(|| CheckResult::up(now, std::time::Duration::ZERO));
    apply_with(state, monitor, result, Extra::Ping(now, failed)).await
}

/// Records a result and, when the monitor's health changes, refreshes the public pages.
pub async fn apply(
    state: &AppState,
    monitor: &Arc<MonitorHandle>,
    result: CheckResult,
) -> anyhow::Result<Option<Change>> {
    apply_with(state, monitor, result, Extra::None).await
}

/// [`apply`], with what else the writer must do in the same transaction.
async fn apply_with(
    state: &AppState,
    monitor: &Arc<MonitorHandle>,
    result: CheckResult,
    extra: Extra,
) -> anyhow::Result<Option<Change>> {
    state.metrics.observe(monitor.spec.id.as_str(), &result);
    let reason = result.reason.clone();
    let at = result.at;
    let change = state
        .recorder
        .record(monitor.clone(), result, extra)
        .await?;
    if let Some(change) = change {
        let id = &monitor.spec.id;
        match change.to {
            Health::Down => {
                tracing::warn!(monitor = %id, reason = reason.as_deref().unwrap_or(""), "monitor is down")
            }
            Health::Up if change.from == Health::Down => {
                let down_for = change
                    .previous_since
                    .map(|s| format_span((at - s).to_std().unwrap_or_default()));
                tracing::info!(monitor = %id, down_for = down_for.as_deref().unwrap_or("?"), "monitor is up again");
            }
            to => {
                tracing::info!(monitor = %id, from = change.from.as_str(), to = to.as_str(), "monitor changed")
            }
        }
        state.cache.invalidate();
    }
    Ok(change)
}

/// The transactional part of [`apply`]: insert the check, bump its buckets, step the state
/// machine, store its state, and open or resolve the automatic incident on a change.
/// Returns the change of health, if any.
pub fn record(
    conn: &Connection,
    monitor: &MonitorHandle,
    result: &CheckResult,
) -> rusqlite::Result<Option<Change>> {
    let row = monitor.row_id;
    let mut state = monitors::load_state(conn, row)?;
    let change = state.observe(result.verdict, monitor.spec.thresholds, result.at);
    checks::insert(conn, row, result)?;
    uptime::record(conn, row, result)?;
    monitors::save_state(conn, row, &state, result)?;
    if let Some(change) = &change {
        let target = monitor.spec.probe.target();
        let subject = Subject {
            row,
            name: &monitor.spec.name,
            target: &target,
        };
        automatic::on_change(
            conn,
            subject,
            change,
            state.since,
            result.reason.as_deref(),
            result.at,
        )?;
    }
    Ok(change)
}
