//! What the owner writes: open an incident, post updates, rename, delete.

use chrono::{DateTime, Utc};

use super::{Author, IncidentError, Note, close_components, maintenance, set_components};
use super::{write_incident_update, write_update};
use crate::db::incidents::{self, NewIncident};
use crate::domain::incident::{Kind, Status, UpdateRejected, check_update};
use crate::domain::status::{ComponentStatus, Impact};
use crate::events::{Event, MaintenanceChange};
use crate::writer::Tx;

/// A new incident, parsed and checked at the edge.
#[derive(Debug, Clone)]
pub struct OpenIncident {
    pub name: String,
    pub status: Status,
    pub impact: Impact,
    pub note: Note,
    /// Monitor rows and the status this incident gives them.
    pub components: Vec<(i64, ComponentStatus)>,
    /// False: nobody is told (Statuspage's `deliver_notifications`).
    pub notify: bool,
}

/// An update to an incident or maintenance.
#[derive(Debug, Clone)]
pub struct PostUpdate {
    pub status: Status,
    pub note: Note,
    pub components: Vec<(i64, ComponentStatus)>,
    /// False: nobody is told.
    pub notify: bool,
}

/// Opens an incident with its first update; returns its id.
pub fn open(tx: &mut Tx<'_>, req: &OpenIncident, now: DateTime<Utc>) -> Result<i64, IncidentError> {
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
    let id = incidents::insert(tx, &new, now)?;
    let mut changes = set_components(tx, id, &req.components)?;
    if req.status.is_closed() {
        changes.extend(close_components(tx, id, &req.components)?);
    }
    let author = Author::Owner { notify: req.notify };
    write_incident_update(tx, id, req.status, &req.note, author, now, &changes)?;
    Ok(id)
}

/// Posts an update; refuses words of the other kind (400) and impossible changes (422).
/// Completing a maintenance ends its window the way the clock does.
pub fn post_update(
    tx: &mut Tx<'_>,
    id: i64,
    req: &PostUpdate,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let incident = incidents::get(tx, id)?.ok_or_else(|| not_found(id))?;
    check_update(incident.kind, incident.status, req.status).map_err(|e| match e {
        UpdateRejected::WrongKind(m) => IncidentError::BadRequest(m),
        UpdateRejected::Impossible(m) => IncidentError::Impossible(m),
    })?;
    let author = Author::Owner { notify: req.notify };
    if incident.kind == Kind::Maintenance && req.status == Status::Completed {
        maintenance::complete(tx, &incident, &req.note, author, now)?;
        return Ok(());
    }
    let mut changes = set_components(tx, id, &req.components)?;
    if req.status.is_closed() {
        changes.extend(close_components(tx, id, &req.components)?);
    }
    match incident.kind {
        Kind::Incident => {
            write_incident_update(tx, id, req.status, &req.note, author, now, &changes)?;
        }
        Kind::Maintenance => {
            let update = write_update(tx, id, req.status, &req.note, author, now, &changes)?;
            let change = if incident.status == Status::Scheduled && req.status != Status::Scheduled
            {
                MaintenanceChange::Started
            } else {
                MaintenanceChange::Noted
            };
            tx.emit(Event::MaintenanceChanged {
                maintenance: id,
                change,
                update: Some(update),
                notify: req.notify,
            })?;
        }
    }
    Ok(())
}

pub fn patch(
    tx: &mut Tx<'_>,
    id: i64,
    name: Option<&str>,
    impact: Option<Impact>,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let incident = incidents::get(tx, id)?.ok_or_else(|| not_found(id))?;
    incidents::rename(tx, id, name, impact, now)?;
    tx.emit(Event::IncidentEdited {
        incident: id,
        kind: incident.kind,
    })?;
    Ok(())
}

pub fn delete(tx: &mut Tx<'_>, id: i64) -> Result<(), IncidentError> {
    // A mail held back by flap damping tells nobody of an incident that is gone.
    crate::db::pacing::forget_incident(tx, id)?;
    if !incidents::delete(tx, id)? {
        return Err(not_found(id));
    }
    tx.emit(Event::IncidentDeleted { incident: id })?;
    Ok(())
}

pub fn not_found(id: i64) -> IncidentError {
    IncidentError::NotFound(format!("no incident with id {id}"))
}
