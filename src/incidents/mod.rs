//! Incidents and maintenances: what the owner writes, what the poller writes, and what the
//! clock does to maintenance windows. Every function runs inside the caller's transaction.

pub mod automatic;
pub mod input;
pub mod maintenance;
pub mod owner;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::db::{incidents, monitors};
use crate::domain::incident::Status;
use crate::domain::status::ComponentStatus;
use crate::error::AppError;
use crate::markdown;

/// Why an incident operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// Bad input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// A valid request that cannot apply to the incident as it is.
    #[error("{0}")]
    Impossible(String),
    #[error("database error")]
    Db(#[from] rusqlite::Error),
}

impl From<IncidentError> for AppError {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::BadRequest(m) => AppError::BadRequest(m),
            IncidentError::NotFound(m) => AppError::NotFound(m),
            IncidentError::Impossible(m) => AppError::Unprocessable(m),
            IncidentError::Db(e) => {
                AppError::Internal(anyhow::Error::new(e).context("incident storage failed"))
            }
        }
    }
}

/// `(monitor row, old status, new status)` for one component in one update.
pub type Change = (i64, ComponentStatus, ComponentStatus);

/// Gives components new statuses in an incident and returns what changed. A component new to
/// the incident starts from the status its checks give it.
fn set_components(
    conn: &Connection,
    incident_id: i64,
    wanted: &[(i64, ComponentStatus)],
) -> rusqlite::Result<Vec<Change>> {
    let current = incidents::component_statuses(conn, incident_id)?;
    let mut changes = Vec::new();
    for (row, new) in wanted {
        let old = match current.get(row) {
            Some(status) => *status,
            None => monitors::load_state(conn, *row)?.health.component_status(),
        };
        incidents::set_component(conn, incident_id, *row, *new)?;
        if old != *new || !current.contains_key(row) {
            changes.push((*row, old, *new));
        }
    }
    Ok(changes)
}

/// When an incident closes, every component it still marks as affected is operational again,
/// unless the closing update says otherwise.
fn close_components(
    conn: &Connection,
    incident_id: i64,
    explicit: &[(i64, ComponentStatus)],
) -> rusqlite::Result<Vec<Change>> {
    let current = incidents::component_statuses(conn, incident_id)?;
    let mut changes = Vec::new();
    for (row, old) in current {
        if explicit.iter().any(|(r, _)| *r == row) || old == ComponentStatus::Operational {
            continue;
        }
        incidents::set_component(conn, incident_id, row, ComponentStatus::Operational)?;
        changes.push((row, old, ComponentStatus::Operational));
    }
    Ok(changes)
}

/// Writes one update (rendering its Markdown) and moves the incident to its status.
fn write_update(
    conn: &Connection,
    incident_id: i64,
    status: Status,
    body: &str,
    automatic: bool,
    now: DateTime<Utc>,
    changes: &[Change],
) -> rusqlite::Result<i64> {
    let html = markdown::render(body);
    let update = incidents::NewUpdate {
        incident_id,
        status,
        body,
        body_html: &html,
        automatic,
        at: now,
    };
    let id = incidents::insert_update(conn, &update, changes)?;
    incidents::set_status(conn, incident_id, status, now)?;
    Ok(id)
}
