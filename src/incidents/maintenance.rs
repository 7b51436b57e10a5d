//! Maintenance windows: scheduled → in_progress at `scheduled_for` → completed at
//! `scheduled_until`, each change an update and an event. When a window ends — by the clock,
//! or because the owner completed or cancelled it — the incident policy runs for its
//! components, so a failure the window hid gets its incident then.

use chrono::{DateTime, Utc};

use super::{Author, IncidentError, Note, apply, write_update};
use crate::db::incidents::{self, Filter, IncidentRecord, NewIncident};
use crate::domain::incident::{Kind, Status};
use crate::domain::status::{ComponentStatus, Impact};
use crate::events::{Event, MaintenanceChange};
use crate::writer::Tx;

/// A maintenance window, parsed and checked at the edge.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub note: Note,
    pub scheduled_for: DateTime<Utc>,
    pub scheduled_until: DateTime<Utc>,
    /// Monitor rows under maintenance.
    pub components: Vec<i64>,
    /// False: nobody is told.
    pub notify: bool,
}

/// A window lasts at most this long: a longer one would mute its components for good.
pub const MAX_WINDOW_DAYS: i64 = 366;

fn check_window(s: &Schedule) -> Result<(), IncidentError> {
    if s.scheduled_until <= s.scheduled_for {
        return Err(IncidentError::BadRequest(
            "scheduled_until: must be after scheduled_for".into(),
        ));
    }
    if s.scheduled_until - s.scheduled_for > chrono::Duration::days(MAX_WINDOW_DAYS) {
        return Err(IncidentError::BadRequest(format!(
            "scheduled_until: a window lasts at most {MAX_WINDOW_DAYS} days; schedule several"
        )));
    }
    Ok(())
}

/// Schedules a maintenance (and starts it at once if its window has begun); returns its id.
pub fn schedule(tx: &mut Tx<'_>, s: &Schedule, now: DateTime<Utc>) -> Result<i64, IncidentError> {
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
    let id = incidents::insert(tx, &new, now)?;
    for row in &s.components {
        incidents::set_component(tx, id, *row, ComponentStatus::UnderMaintenance)?;
    }
    let author = Author::Owner { notify: s.notify };
    let update = write_update(tx, id, Status::Scheduled, &s.note, author, now, &[])?;
    emit(tx, id, MaintenanceChange::Scheduled, Some(update), author)?;
    advance(tx, now)?;
    Ok(id)
}

fn emit(
    tx: &mut Tx<'_>,
    id: i64,
    change: MaintenanceChange,
    update: Option<i64>,
    author: Author,
) -> rusqlite::Result<()> {
    tx.emit(Event::MaintenanceChanged {
        maintenance: id,
        change,
        update,
        notify: author.notify(),
    })
}

fn maintenance(tx: &Tx<'_>, id: i64) -> Result<IncidentRecord, IncidentError> {
    incidents::get(tx, id)?
        .filter(|m| m.kind == Kind::Maintenance)
        .ok_or_else(|| not_found(id))
}

fn not_found(id: i64) -> IncidentError {
    IncidentError::NotFound(format!("no maintenance with id {id}"))
}

/// `(row, from, to)` for every component of `m`.
fn component_changes(
    m: &IncidentRecord,
    from: ComponentStatus,
    to: ComponentStatus,
) -> Vec<super::Change> {
    m.components
        .iter()
        .map(|c| (c.monitor_row, Some(from), to))
        .collect()
}

/// `(moved, rescheduled)`: whether `s` changes the window (the calendar event's times), and
/// whether it changes the window or the components (what people are told as "rescheduled").
fn what_changes(current: &IncidentRecord, s: &Schedule) -> (bool, bool) {
    let moved = current.scheduled_for != Some(s.scheduled_for)
        || current.scheduled_until != Some(s.scheduled_until);
    let rows = |mut rows: Vec<i64>| {
        rows.sort_unstable();
        rows.dedup();
        rows
    };
    let before = rows(current.components.iter().map(|c| c.monitor_row).collect());
    (moved, moved || before != rows(s.components.clone()))
}

/// Changes a maintenance's name, window and components; the note, if any, becomes an update.
/// A new window raises its calendar SEQUENCE.
pub fn edit(
    tx: &mut Tx<'_>,
    id: i64,
    s: &Schedule,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let current = maintenance(tx, id)?;
    if current.status == Status::Completed {
        return Err(IncidentError::Impossible(
            "this maintenance is over (completed or cancelled) and cannot change; schedule a new one"
                .into(),
        ));
    }
    check_window(s)?;
    let (moved, rescheduled) = what_changes(&current, s);
    incidents::rename(tx, id, Some(&s.name), None, now)?;
    incidents::set_schedule(tx, id, s.scheduled_for, s.scheduled_until, now)?;
    if moved {
        incidents::raise_sequence(tx, id)?;
    }
    incidents::clear_components(tx, id)?;
    for row in &s.components {
        incidents::set_component(tx, id, *row, ComponentStatus::UnderMaintenance)?;
    }
    let active = matches!(current.status, Status::InProgress | Status::Verifying);
    let author = Author::Owner { notify: s.notify };
    let mut update = None;
    if active && s.scheduled_for > now {
        // Moved into the future while running: it is scheduled again, its components freed.
        let changes = component_changes(
            &current,
            ComponentStatus::UnderMaintenance,
            ComponentStatus::Operational,
        );
        let note = if s.note.markdown.trim().is_empty() {
            Note::render("This maintenance was rescheduled.")
        } else {
            s.note.clone()
        };
        update = Some(write_update(
            tx,
            id,
            Status::Scheduled,
            &note,
            author,
            now,
            &changes,
        )?);
    } else if !s.note.markdown.trim().is_empty() {
        update = Some(write_update(
            tx,
            id,
            current.status,
            &s.note,
            author,
            now,
            &[],
        )?);
    }
    if rescheduled {
        emit(tx, id, MaintenanceChange::Rescheduled, update, author)?;
    } else if update.is_some() {
        emit(tx, id, MaintenanceChange::Noted, update, author)?;
    } else {
        // Only the name: the pages change, nobody needs telling.
        tx.emit(Event::IncidentEdited {
            incident: id,
            kind: Kind::Maintenance,
        })?;
    }
    if active {
        // Components taken out of a running window: their hidden failures count again.
        let released: Vec<i64> = current.components.iter().map(|c| c.monitor_row).collect();
        apply::after_window(tx, &released, now)?;
    }
    advance(tx, now)?;
    Ok(())
}

/// What the owner API changes in a maintenance: `None` keeps what it has.
#[derive(Debug, Clone)]
pub struct Patch {
    pub name: Option<String>,
    /// Empty: no update is written.
    pub note: Note,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub scheduled_until: Option<DateTime<Utc>>,
    /// Monitor rows under maintenance.
    pub components: Option<Vec<i64>>,
    /// False: nobody is told.
    pub notify: bool,
}

/// Applies `p` over the maintenance as it is, by the same rules as [`edit`].
pub fn patch(tx: &mut Tx<'_>, id: i64, p: &Patch, now: DateTime<Utc>) -> Result<(), IncidentError> {
    let current = maintenance(tx, id)?;
    let (Some(from), Some(until)) = (current.scheduled_for, current.scheduled_until) else {
        return Err(not_found(id));
    };
    let schedule = Schedule {
        name: p.name.clone().unwrap_or(current.name),
        note: p.note.clone(),
        scheduled_for: p.scheduled_for.unwrap_or(from),
        scheduled_until: p.scheduled_until.unwrap_or(until),
        components: p
            .components
            .clone()
            .unwrap_or_else(|| current.components.iter().map(|c| c.monitor_row).collect()),
        notify: p.notify,
    };
    edit(tx, id, &schedule, now)
}

/// Ends a maintenance early (or calls it off before it starts).
pub fn cancel(
    tx: &mut Tx<'_>,
    id: i64,
    notify: bool,
    now: DateTime<Utc>,
) -> Result<(), IncidentError> {
    let current = maintenance(tx, id)?;
    if current.status == Status::Completed {
        return Err(IncidentError::Impossible(
            "this maintenance is already over (completed or cancelled)".into(),
        ));
    }
    let body = if current.status == Status::Scheduled {
        "This maintenance has been cancelled."
    } else {
        "This maintenance ended early."
    };
    finish(
        tx,
        &current,
        &Note::render(body),
        Author::Owner { notify },
        MaintenanceChange::Cancelled,
        now,
    )?;
    Ok(())
}

/// Moves every maintenance whose time has come; returns true when anything changed.
pub fn advance(tx: &mut Tx<'_>, now: DateTime<Utc>) -> rusqlite::Result<bool> {
    let mut changed = false;
    for m in incidents::list(tx, Filter::PlannedMaintenances, now)?
        .into_iter()
        .chain(incidents::list(tx, Filter::OverdueMaintenances, now)?)
    {
        let (Some(from), Some(until)) = (m.scheduled_for, m.scheduled_until) else {
            continue;
        };
        if now >= until {
            let note = Note::render("Maintenance completed.");
            complete(tx, &m, &note, Author::Automatic, now)?;
            changed = true;
        } else if now >= from && m.status == Status::Scheduled {
            let changes = component_changes(
                &m,
                ComponentStatus::Operational,
                ComponentStatus::UnderMaintenance,
            );
            let note = Note::render("Maintenance is in progress.");
            let update = write_update(
                tx,
                m.id,
                Status::InProgress,
                &note,
                Author::Automatic,
                now,
                &changes,
            )?;
            emit(
                tx,
                m.id,
                MaintenanceChange::Started,
                Some(update),
                Author::Automatic,
            )?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Completes a maintenance (the clock ended it, or the owner did): its components leave the
/// window, and the incident policy tells the failures it hid.
pub(super) fn complete(
    tx: &mut Tx<'_>,
    m: &IncidentRecord,
    note: &Note,
    author: Author,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    finish(tx, m, note, author, MaintenanceChange::Completed, now)
}

fn finish(
    tx: &mut Tx<'_>,
    m: &IncidentRecord,
    note: &Note,
    author: Author,
    change: MaintenanceChange,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let was_active = m.status != Status::Scheduled;
    let changes = if was_active {
        component_changes(
            m,
            ComponentStatus::UnderMaintenance,
            ComponentStatus::Operational,
        )
    } else {
        Vec::new()
    };
    let update = write_update(tx, m.id, Status::Completed, note, author, now, &changes)?;
    // Called off or ended early: its calendar event is cancelled or shorter.
    if m.scheduled_until.is_some_and(|until| now < until) {
        incidents::raise_sequence(tx, m.id)?;
    }
    emit(tx, m.id, change, Some(update), author)?;
    let rows: Vec<i64> = m.components.iter().map(|c| c.monitor_row).collect();
    apply::after_window(tx, &rows, now)
}
