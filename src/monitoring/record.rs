//! The write job of one result: check row, buckets, state machine, incident policy, events.

use crate::db::{checks, monitors, uptime};
use crate::domain::check::CheckResult;
use crate::domain::policy::MonitorFacts;
use crate::domain::status::Change;
use crate::events::Event;
use crate::incidents::apply;
use crate::writer::Tx;

use super::Monitor;

/// Inserts the check, bumps its buckets, steps and stores the state machine, and on a change of
/// health lets the incident policy open, note or resolve. Returns the change, if any.
pub fn record(
    tx: &mut Tx<'_>,
    monitor: &Monitor,
    result: &CheckResult,
) -> rusqlite::Result<Option<Change>> {
    let row = monitor.row;
    let mut state = monitors::load_state(tx, row)?;
    let change = state.observe(result.verdict, monitor.spec.thresholds, result.at);
    checks::insert(tx, row, result)?;
    uptime::record(tx, row, result)?;
    monitors::save_state(tx, row, &state, result)?;
    tx.emit(Event::CheckRecorded {
        monitor: monitor.spec.id.clone(),
        verdict: result.verdict,
        elapsed: result.elapsed,
        cert_expires_at: result.cert_expires_at,
    })?;
    let Some(change) = change else {
        return Ok(None);
    };
    tx.emit(Event::MonitorChanged {
        monitor: monitor.spec.id.clone(),
        from: change.from,
        to: change.to,
        reason: result.reason.clone(),
        previous_since: change.previous_since,
        at: result.at,
    })?;
    let target = monitor.spec.target();
    let facts = MonitorFacts {
        row,
        name: &monitor.spec.name,
        target: &target,
        health: state.health,
        since: state.since,
        reason: result.reason.as_deref(),
    };
    apply::on_change(tx, &facts, change, monitor.spec.reopen_within, result.at)?;
    Ok(Some(change))
}
