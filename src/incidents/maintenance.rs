//! Maintenance windows: scheduled → in_progress at `scheduled_for` → completed at
//! `scheduled_until`, each change an update. A component still down when its window ends gets
//! the automatic incident its failure did not open during the window.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::automatic::{self, Subject};
use super::owner::not_found;
use super::{IncidentError, write_update};
use crate::db::incidents::{self, Filter, NewIncident};
use crate::db::monitors;
use crate::domain::incident::{Kind, Status};
use crate::domain::status::{ComponentStatus, Health, Impact};

/// A maintenance window, parsed and checked at the edge.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub body: String,
    pub scheduled_for: DateTime<Utc>,
    pub scheduled_until: DateTime<Utc>,
    /// Monitor rows under maintenance.
    pub components: Vec<i64>,
}

fn check_window(s: &Schedule) -> Result<(), IncidentError> {
    if s.scheduled_until <= s.scheduled_for {
        return Err(IncidentError::BadRequest(
            "scheduled_until: must be after scheduled_for".into(),
        ));
    }
    Ok(())
}

/// Schedules a maintenance (and starts it at once if its window has begun); returns its id.
pub fn schedule(conn: &Connection, s: &Schedule, now: DateTime<Utc>) -> Result<i64, IncidentError> {
    check_window(s)?;
    let new = NewIncident {
        kind: Kind::Maintenance,
        name: s.name.clone(),
        status: Status::Scheduled,
        impact: Impact::None,
        monitor_row: None,
        started_at: s.scheduled_for,
        scheduled_for: Some(s.scheduled_for),
        scheduled_until: Some(s.scheduled_until),
    };
    let id = incidents::insert(conn, &new, now)?;
    for row in &s.components {
        incidents::set_component(conn, id, *row, ComponentStatus::UnderMaintenance)?;
    }
    write_update(conn, id, Status::Scheduled, &s.body, false, now, &[])?;
    advance(conn, now)?;
    Ok(id)
}

/// Changes a maintenance's name, window and components; the note, if any, becomes an update.
pub fn edit(
    conn: &Connection,
    id: i64,
    s: &Schedule,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    check_window(s)?;
    let current = incidents::get(conn, id)?
        .filter(|m| m.kind == Kind::Maintenance)
        .ok_or_else(|| not_found(id))?;
    if current.status == Status::Completed {
        return Err(IncidentError::Impossible(
            "this maintenance is completed; schedule a new one".into(),
        ));
    }
    incidents::rename(conn, id, Some(&s.name), None, now)?;
    incidents::set_schedule(conn, id, s.scheduled_for, s.scheduled_until, now)?;
    conn.execute(
        "DELETE FROM incident_components WHERE incident_id = ?1",
        [id],
    )?;
    for row in &s.components {
        incidents::set_component(conn, id, *row, ComponentStatus::UnderMaintenance)?;
    }
    let active = matches!(current.status, Status::InProgress | Status::Verifying);
    if active && s.scheduled_for > now {
        // Moved into the future while running: it is scheduled again, its components freed.
        let changes: Vec<_> = current
            .components
            .iter()
            .map(|c| {
                (
                    c.monitor_row,
                    ComponentStatus::UnderMaintenance,
                    ComponentStatus::Operational,
                )
            })
            .collect();
        let body = if s.body.trim().is_empty() {
            "This maintenance was rescheduled."
        } else {
            s.body.as_str()
        };
        write_update(conn, id, Status::Scheduled, body, false, now, &changes)?;
    } else if !s.body.trim().is_empty() {
        write_update(conn, id, current.status, &s.body, false, now, &[])?;
    }
    advance(conn, now)?;
    Ok(())
}

/// Ends a maintenance early (or calls it off before it starts).
pub fn cancel(conn: &Connection, id: i64, now: DateTime<Utc>) -> Result<(), IncidentError> {
    let current = incidents::get(conn, id)?
        .filter(|m| m.kind == Kind::Maintenance)
        .ok_or_else(|| not_found(id))?;
    if current.status == Status::Completed {
        return Err(IncidentError::Impossible(
            "this maintenance is already completed".into(),
        ));
    }
    let body = if current.status == Status::Scheduled {
        "This maintenance has been cancelled."
    } else {
        "This maintenance ended early."
    };
    complete(conn, &current, body, now)?;
    Ok(())
}

/// Moves every maintenance whose time has come; returns true when anything changed.
pub fn advance(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<bool> {
    let mut changed = false;
    for m in incidents::list(conn, Filter::PlannedMaintenances, now)?
        .into_iter()
        .chain(incidents::list(conn, Filter::OverdueMaintenances, now)?)
    {
        let (Some(from), Some(until)) = (m.scheduled_for, m.scheduled_until) else {
            continue;
        };
        if now >= until {
            complete(conn, &m, "Maintenance completed.", now)?;
            changed = true;
        } else if now >= from && m.status == Status::Scheduled {
            let changes: Vec<_> = m
                .components
                .iter()
                .map(|c| {
                    (
                        c.monitor_row,
                        ComponentStatus::Operational,
                        ComponentStatus::UnderMaintenance,
                    )
                })
                .collect();
            write_update(
                conn,
                m.id,
                Status::InProgress,
                "Maintenance is in progress.",
                true,
                now,
                &changes,
            )?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Completes a maintenance; components still failing get their automatic incident now.
fn complete(
    conn: &Connection,
    m: &incidents::IncidentRecord,
    body: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let was_active = m.status != Status::Scheduled;
    let changes: Vec<_> = if was_active {
        m.components
            .iter()
            .map(|c| {
                (
                    c.monitor_row,
                    ComponentStatus::UnderMaintenance,
                    ComponentStatus::Operational,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    write_update(conn, m.id, Status::Completed, body, true, now, &changes)?;
    let in_other_windows = incidents::monitors_in_maintenance(conn, now)?;
    for c in &m.components {
        let still_in_window = in_other_windows.contains(&c.monitor_row);
        let state = monitors::load_state(conn, c.monitor_row)?;
        if state.health == Health::Down
            && !still_in_window
            && incidents::open_for_monitor(conn, c.monitor_row)?.is_none()
        {
            let (target, reason) = monitors::target_and_reason(conn, c.monitor_row)?;
            let subject = Subject {
                row: c.monitor_row,
                name: &c.name,
                target: &target,
            };
            let reason = reason.unwrap_or_else(|| "check failed".to_string());
            automatic::went_down(conn, subject, &reason, state.since.unwrap_or(now), now)?;
        }
    }
    Ok(())
}
