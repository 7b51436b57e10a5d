//! Applying a check result: record it, run the state machine, react to changes — one
//! transaction per result, so a crash never leaves a check without its bucket or state.

use rusqlite::Connection;

use crate::db::{checks, monitors, uptime};
use crate::domain::check::CheckResult;
use crate::domain::duration::format_span;
use crate::domain::status::{Change, Health};
use crate::incidents::automatic::{self, Subject};
use crate::state::{AppState, MonitorHandle};

/// Probes a monitor once and applies the result.
pub async fn run_check(
    state: &AppState,
    monitor: &MonitorHandle,
) -> anyhow::Result<Option<Change>> {
    let result = state.prober.check(&monitor.spec).await;
    apply(state, monitor, result).await
}

/// Records a result and, when the monitor's health changes, refreshes the public pages.
pub async fn apply(
    state: &AppState,
    monitor: &MonitorHandle,
    result: CheckResult,
) -> anyhow::Result<Option<Change>> {
    state.metrics.observe(monitor.spec.id.as_str(), &result);
    let reason = result.reason.clone();
    let at = result.at;
    let handle = monitor.clone();
    let change = state
        .db
        .write(move |tx| Ok(record(tx, &handle, &result)?))
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
