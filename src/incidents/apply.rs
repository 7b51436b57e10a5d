//! The thin executor of the incident policy (`domain::policy`): gathers what the policy needs
//! from the database, asks it, and writes its decisions — all inside the caller's transaction.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::write_incident_update;
use super::{Author, Note, close_components, set_components, set_components_from};
use crate::db::incidents::{self, NewIncident};
use crate::db::monitors;
use crate::domain::incident::{Kind, Status};
use crate::domain::policy::{self, Decision, Incidents, MonitorFacts, Trigger};
use crate::domain::status::{Change, ComponentStatus, Impact};
use crate::writer::Tx;

/// A monitor's health changed: open, reopen, resolve or quietly set the component as the
/// policy decides. `reopen_within`: `[incidents] reopen_within`.
pub fn on_change(
    tx: &mut Tx<'_>,
    facts: &MonitorFacts<'_>,
    change: Change,
    reopen_within: Duration,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let open = incidents::open_covering(tx, facts.row)?;
    let known = Incidents {
        open: &open,
        last_resolved: incidents::last_resolved_for(tx, facts.row)?,
        reopen_within,
    };
    let windows = incidents::windows_covering(tx, facts.row)?;
    let decisions = policy::decide(Trigger::Changed(change), facts, &known, &windows, now);
    execute(tx, decisions, now)
}

/// A maintenance window over `monitors` ended (by the clock or the owner): a failure it hid
/// gets the incident it did not open during the window (a new one: the window parted it from
/// any earlier outage).
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
        let known = Incidents {
            open: &open,
            last_resolved: None,
            reopen_within: Duration::ZERO,
        };
        let windows = incidents::windows_covering(tx, row)?;
        let decisions = policy::decide(Trigger::WindowEnded, &facts, &known, &windows, now);
        execute(tx, decisions, now)?;
    }
    Ok(())
}

/// Writes the policy's decisions: each one update (and a new incident for `Open`), except a
/// quiet one, which only sets the component.
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
                was,
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
                let down = [(monitor, ComponentStatus::MajorOutage)];
                let changes = set_components_from(tx, id, &down, |_| Ok(was))?;
                (id, Status::Investigating, body, changes)
            }
            Decision::Reopen {
                incident,
                monitor,
                body,
                was,
            } => {
                let down = [(monitor, ComponentStatus::MajorOutage)];
                let changes = set_components_from(tx, incident, &down, |_| Ok(was))?;
                (incident, Status::Investigating, body, changes)
            }
            Decision::Quiet {
                incident,
                component,
            } => {
                // No update, no event of its own: the `MonitorChanged` of the same transaction
                // tells the owner and re-renders the page.
                set_components(tx, incident, &[component])?;
                continue;
            }
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
