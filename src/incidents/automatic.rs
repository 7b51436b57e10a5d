//! Incidents the poller writes itself (SPEC §5): one per outage, resolved when the site is back.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{close_components, set_components, write_update};
use crate::db::incidents::{self, NewIncident};
use crate::domain::duration::format_span;
use crate::domain::incident::{Kind, Status};
use crate::domain::status::{Change, ComponentStatus, Health, Impact};

/// What the poller knows about the monitor that changed.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub row: i64,
    pub name: &'a str,
    pub target: &'a str,
}

/// Reacts to a change of health: opens, annotates or resolves the automatic incident.
/// Returns the incident touched, if any.
pub fn on_change(
    conn: &Connection,
    subject: Subject<'_>,
    change: &Change,
    outage_start: Option<DateTime<Utc>>,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    if change.to == Health::Down {
        let in_maintenance = incidents::monitors_in_maintenance(conn, now)?.contains(&subject.row);
        if in_maintenance {
            return Ok(None);
        }
        return went_down(
            conn,
            subject,
            reason.unwrap_or("check failed"),
            outage_start.unwrap_or(now),
            now,
        )
        .map(Some);
    }
    if change.from == Health::Down {
        let down_for = change
            .previous_since
            .map(|since| (now - since).to_std().unwrap_or_default());
        return came_back(conn, subject, down_for, now);
    }
    Ok(None)
}

/// The first sentence of an automatic update: what failed, and where.
fn failure_text(reason: &str, target: &str) -> String {
    if reason.starts_with("HTTP ") {
        format!("{reason} from {target}")
    } else {
        format!("{reason} ({target})")
    }
}

/// Opens `{name} is down`, or adds to the open incident that already covers the component.
pub fn went_down(
    conn: &Connection,
    s: Subject<'_>,
    reason: &str,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    let body = format!(
        "**{}** is down: {}. This was detected automatically.",
        s.name,
        failure_text(reason, s.target)
    );
    let down = [(s.row, ComponentStatus::MajorOutage)];
    if let Some(open) = incidents::open_for_monitor(conn, s.row)? {
        let (id, status) = (open.id, open.status);
        let changes = set_components(conn, id, &down)?;
        write_update(conn, id, status, &body, true, now, &changes)?;
        return Ok(id);
    }
    let new = NewIncident {
        kind: Kind::Incident,
        name: format!("{} is down", s.name),
        status: Status::Investigating,
        impact: Impact::Major,
        monitor_row: Some(s.row),
        started_at: since,
        scheduled_for: None,
        scheduled_until: None,
    };
    let id = incidents::insert(conn, &new, now)?;
    let changes = set_components(conn, id, &down)?;
    write_update(conn, id, Status::Investigating, &body, true, now, &changes)?;
    Ok(id)
}

/// Resolves the poller's own incident, or notes the recovery on the owner's one (the owner
/// decides when their incident is over).
fn came_back(
    conn: &Connection,
    s: Subject<'_>,
    down_for: Option<std::time::Duration>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<i64>> {
    let Some(open) = incidents::open_for_monitor(conn, s.row)? else {
        return Ok(None);
    };
    let how_long = down_for
        .map(|d| format!(" after {}", format_span(d)))
        .unwrap_or_default();
    let (id, status, own) = (open.id, open.status, open.opened_for_it);
    let up = [(s.row, ComponentStatus::Operational)];
    let mut changes = set_components(conn, id, &up)?;
    if own {
        changes.extend(close_components(conn, id, &up)?);
        let body = format!(
            "**{}** is back up{how_long}. Resolved automatically.",
            s.name
        );
        write_update(conn, id, Status::Resolved, &body, true, now, &changes)?;
    } else {
        let body = format!("**{}** is responding again{how_long}.", s.name);
        write_update(conn, id, status, &body, true, now, &changes)?;
    }
    Ok(Some(id))
}

/// Resolves the poller's open incidents of monitors removed from the config: nothing would
/// ever resolve them, and their impact would hold the page indicator forever.
pub fn retire_removed(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    let orphans = incidents::open_for_removed_monitors(conn)?;
    for (id, row, name) in &orphans {
        let changes = set_components(conn, *id, &[(*row, ComponentStatus::Operational)])?;
        let body = format!("**{name}** is no longer monitored; this incident was closed.");
        write_update(conn, *id, Status::Resolved, &body, true, now, &changes)?;
    }
    Ok(orphans.len())
}
