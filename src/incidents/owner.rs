//! What the owner writes: open an incident, post updates, rename, delete.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::{IncidentError, close_components, set_components, write_update};
use crate::db::incidents::{self, NewIncident};
use crate::domain::incident::{Kind, Status, UpdateRejected, check_update};
use crate::domain::status::{ComponentStatus, Impact};

/// A new incident, parsed and checked at the edge.
#[derive(Debug, Clone)]
pub struct OpenIncident {
    pub name: String,
    pub status: Status,
    pub impact: Impact,
    /// Markdown.
    pub body: String,
    /// Monitor rows and the status this incident gives them.
    pub components: Vec<(i64, ComponentStatus)>,
}

/// An update to an incident or maintenance.
#[derive(Debug, Clone)]
pub struct PostUpdate {
    pub status: Status,
    pub body: String,
    pub components: Vec<(i64, ComponentStatus)>,
}

/// Opens an incident with its first update; returns its id.
pub fn open(
    conn: &Connection,
    req: &OpenIncident,
    now: DateTime<Utc>,
) -> Result<i64, IncidentError> {
    if !req.status.belongs_to(Kind::Incident) || req.status == Status::Postmortem {
        return Err(IncidentError::BadRequest(format!(
            "status: a new incident starts as investigating, identified, monitoring or resolved, not \"{}\"",
            req.status.as_str()
        )));
    }
    let new = NewIncident {
        kind: Kind::Incident,
        name: req.name.clone(),
        status: req.status,
        impact: req.impact,
        monitor_row: None,
        started_at: now,
        scheduled_for: None,
        scheduled_until: None,
    };
    let id = incidents::insert(conn, &new, now)?;
    let mut changes = set_components(conn, id, &req.components)?;
    if req.status.is_closed() {
        changes.extend(close_components(conn, id, &req.components)?);
    }
    write_update(conn, id, req.status, &req.body, false, now, &changes)?;
    Ok(id)
}

/// Posts an update; refuses words of the other kind (400) and impossible changes (422).
pub fn post_update(
    conn: &Connection,
    id: i64,
    req: &PostUpdate,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let incident = incidents::get(conn, id)?.ok_or_else(|| not_found(id))?;
    check_update(incident.kind, incident.status, req.status).map_err(|e| match e {
        UpdateRejected::WrongKind(m) => IncidentError::BadRequest(m),
        UpdateRejected::Impossible(m) => IncidentError::Impossible(m),
    })?;
    let mut changes = set_components(conn, id, &req.components)?;
    if req.status.is_closed() {
        changes.extend(close_components(conn, id, &req.components)?);
    }
    write_update(conn, id, req.status, &req.body, false, now, &changes)?;
    Ok(())
}

pub fn patch(
    conn: &Connection,
    id: i64,
    name: Option<&str>,
    impact: Option<Impact>,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    incidents::get(conn, id)?.ok_or_else(|| not_found(id))?;
    incidents::rename(conn, id, name, impact, now)?;
    Ok(())
}

pub fn delete(conn: &Connection, id: i64) -> Result<(), IncidentError> {
    if incidents::delete(conn, id)? {
        Ok(())
    } else {
        Err(not_found(id))
    }
}

pub fn not_found(id: i64) -> IncidentError {
    IncidentError::NotFound(format!("no incident with id {id}"))
}
