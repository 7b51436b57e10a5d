//! Owner reminders inside the write transaction: the rules of `domain::reminder` judge the open
//! incidents, and every reminder due is remembered and emitted in the same transaction — its
//! notification is staged by the outbox hook on `emit` — so it is sent once, even across a
//! restart.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::db::reminders;
use crate::domain::reminder::{self, Due, Settings};
use crate::events::Event;
use crate::writer::Tx;

/// The reminders due at `now` (a read: nothing is written).
pub fn due(
    conn: &Connection,
    settings: &Settings,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<Due>> {
    if !settings.any() {
        return Ok(Vec::new());
    }
    let open = reminders::open_incidents(conn)?;
    Ok(reminder::due(settings, &open, now))
}

/// Sends every reminder due at `now`: records it and emits [`Event::Reminder`]. Returns how
/// many.
pub fn send_due(
    tx: &mut Tx<'_>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    let due = due(tx, settings, now)?;
    for reminder in &due {
        reminders::record(tx, reminder, now)?;
        tx.emit(Event::Reminder {
            incident: reminder.incident,
            kind: reminder.kind,
            since: reminder.since,
        })?;
    }
    Ok(due.len())
}
