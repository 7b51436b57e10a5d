//! The thin executor of the incident policy (`domain::policy`): gathers what the policy needs
//! from the database, asks it, and writes its decisions — all inside the caller's transaction.

use chrono::{DateTime, Utc};

use super::{Author, Note, close_components, set_components, write_incident_update};
use crate::db::incidents::{self, NewIncident};
use crate::db::monitors;
use crate::domain::incident::{Kind, Status};
use crate::domain::policy::{self, Decision, MonitorFacts, Trigger};
use crate::domain::status::{Change, ComponentStatus, Impact};
use crate::writer::Tx;

/// A monitor's health changed: open, note or resolve as the policy decides.
pub fn on_change(
    tx: &mut Tx<'_>,
    facts: &MonitorFacts<'_>,
    change: Change,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let open = incidents::open_covering(tx, facts.row)?;
    let windows = incidents::windows_covering(tx, facts.row)?;
    let decisions = policy::decide(Trigger::Changed(change), facts, &open, &windows, now);
    execute(tx, decisions, now)
}

/// A maintenance window over `monitors` ended (by the clock or the owner): a failure it hid
/// gets the incident it did not open during the window.
pub fn after_window(tx: &mut Tx<'_>, monitors: &[i64], now: DateTime<Utc>) -> rusqlite::Result<()> {
    for &row in monitors {
        let Some(m) = monitors::summary(tx, row)? else {
            continue;
        };
        let facts = MonitorFacts {
            row,
            name: &m.name,
            target: &m.target,
            health: m.state.health,
            since: m.state.since,
            reason: m.last_reason.as_deref(),
        };
        let open = incidents::open_covering(tx, row)?;
        let windows = incidents::windows_covering(tx, row)?;
        let decisions = policy::decide(Trigger::WindowEnded, &facts, &open, &windows, now);
        execute(tx, decisions, now)?;
    }
    Ok(())
}

/// Writes the policy's decisions: each one update (and a new incident for `Open`).
pub fn execute(
    tx: &mut Tx<'_>,
    decisions: Vec<Decision>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    for decision in decisions {
        let (incident, status, body, changes) = match decision {
            Decision::Open {
                monitor,
                name,
                since,
                body,
            } => {
                let new = NewIncident {
                    kind: Kind::Incident,
                    name,
                    status: Status::Investigating,
                    impact: Impact::Major,
                    monitor_row: Some(monitor),
                    started_at: since,
                    scheduled_for: None,
                    scheduled_until: None,
                };
                let id = incidents::insert(tx, &new, now)?;
                let changes = set_components(tx, id, &[(monitor, ComponentStatus::MajorOutage)])?;
                (id, Status::Investigating, body, changes)
            }
            Decision::Note {
                incident,
                status,
                body,
                component,
            } => (
                incident,
                status,
                body,
                set_components(tx, incident, &[component])?,
            ),
            Decision::Resolve {
                incident,
                monitor,
                body,
            } => {
                let up = [(monitor, ComponentStatus::Operational)];
                let mut changes = set_components(tx, incident, &up)?;
                changes.extend(close_components(tx, incident, &up)?);
                (incident, Status::Resolved, body, changes)
            }
        };
        let note = Note::render(&body);
        write_incident_update(
            tx,
            incident,
            status,
            &note,
            Author::Automatic,
            now,
            &changes,
        )?;
    }
    Ok(())
}

/// Resolves the poller's open incidents of monitors removed from the config: nothing would
/// ever resolve them, and their impact would hold the page indicator forever.
pub fn retire_removed(tx: &mut Tx<'_>, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    let orphans = incidents::open_for_removed_monitors(tx)?;
    for (id, row, name) in &orphans {
        let changes = set_components(tx, *id, &[(*row, ComponentStatus::Operational)])?;
        let note = Note::render(&format!(
            "**{name}** is no longer monitored; this incident was closed."
        ));
        write_incident_update(
            tx,
            *id,
            Status::Resolved,
            &note,
            Author::Automatic,
            now,
            &changes,
        )?;
    }
    Ok(orphans.len())
}
