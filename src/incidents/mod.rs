//! Incidents and maintenances inside the write transaction: what the owner writes (`owner`),
//! what the incident policy decides for the poller (`apply`), what the clock and the owner
//! do to maintenance windows (`maintenance`), and the reminders the clock sends the owner about
//! open incidents (`reminders`). Every change emits its domain event on the [`Tx`].

pub mod apply;
pub mod input;
pub mod maintenance;
pub mod owner;
pub mod reminders;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::db::{incidents, monitors};
use crate::domain::incident::Status;
use crate::domain::status::{ComponentStatus, Health};
use crate::error::AppError;
use crate::markdown;
use crate::writer::Tx;

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

/// A note as written (Markdown) and as shown (sanitized HTML). Rendering a long note takes a
/// while: owner notes are rendered before their write, never inside the write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub markdown: String,
    pub html: String,
}

impl Note {
    /// Renders `markdown` (slow for long notes: call it off the async executor).
    pub fn render(markdown: &str) -> Self {
        Self {
            markdown: markdown.to_string(),
            html: markdown::render(markdown),
        }
    }
}

/// `(monitor row, old status, new status)` for one component in one update; the old status is
/// `None` for a component that had none (never checked).
pub type Change = (i64, Option<ComponentStatus>, ComponentStatus);

/// Gives components new statuses in an incident and returns what changed. A component new to
/// the incident starts from the status its checks give it (none when never checked).
fn set_components(
    conn: &Connection,
    incident_id: i64,
    wanted: &[(i64, ComponentStatus)],
) -> rusqlite::Result<Vec<Change>> {
    set_components_from(conn, incident_id, wanted, |row| {
        let health = monitors::load_state(conn, row)?.health;
        Ok((health != Health::Unknown).then(|| health.component_status()))
    })
}

/// [`set_components`], with `before` saying what a component new to the incident had: the
/// poller knows it from the change of health, after the new health is stored.
fn set_components_from(
    conn: &Connection,
    incident_id: i64,
    wanted: &[(i64, ComponentStatus)],
    before: impl Fn(i64) -> rusqlite::Result<Option<ComponentStatus>>,
) -> rusqlite::Result<Vec<Change>> {
    let current = incidents::component_statuses(conn, incident_id)?;
    let mut changes = Vec::new();
    for (row, new) in wanted {
        let old = match current.get(row) {
            Some(status) => Some(*status),
            None => before(*row)?,
        };
        incidents::set_component(conn, incident_id, *row, *new)?;
        if old != Some(*new) || !current.contains_key(row) {
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
        changes.push((row, Some(old), ComponentStatus::Operational));
    }
    Ok(changes)
}

/// Who wrote an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Author {
    /// The poller or the clock: people are told.
    Automatic,
    /// The owner; `notify: false` when they asked that nobody be told.
    Owner { notify: bool },
}

impl Author {
    fn notify(self) -> bool {
        match self {
            Self::Automatic => true,
            Self::Owner { notify } => notify,
        }
    }
}

/// Writes one update and moves the incident to its status; returns the update's id. The caller
/// emits the event that says what the update means.
fn write_update(
    conn: &Connection,
    incident_id: i64,
    status: Status,
    note: &Note,
    author: Author,
    now: DateTime<Utc>,
    changes: &[Change],
) -> rusqlite::Result<i64> {
    let update = incidents::NewUpdate {
        incident_id,
        status,
        body: &note.markdown,
        body_html: &note.html,
        automatic: author == Author::Automatic,
        at: now,
    };
    let id = incidents::insert_update(conn, &update, changes)?;
    incidents::set_status(conn, incident_id, status, now)?;
    Ok(id)
}

/// Writes an incident update and emits [`crate::events::Event::IncidentUpdated`].
fn write_incident_update(
    tx: &mut Tx<'_>,
    incident: i64,
    status: Status,
    note: &Note,
    author: Author,
    now: DateTime<Utc>,
    changes: &[Change],
) -> rusqlite::Result<i64> {
    let update = write_update(tx, incident, status, note, author, now, changes)?;
    tx.emit(crate::events::Event::IncidentUpdated {
        incident,
        update,
        status,
        automatic: author == Author::Automatic,
        notify: author.notify(),
    })?;
    Ok(update)
}
