//! Pacing of notifications (flap damping): per stream — an incident's subscribers or the
//! owner's channels, a monitor's owner alerts — when the last message went (or will go) out,
//! the held notification that gathers what comes before then, and a monitor's recent changes
//! of health. Written in the transaction that stages the notification.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{from_millis, to_millis};

/// A notification held back until `until`, gathering the changes since `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub notification: i64,
    pub until: DateTime<Utc>,
    pub from: DateTime<Utc>,
    /// How many changes it gathers.
    pub count: u32,
}

/// Where one stream stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    pub last_sent_at: Option<DateTime<Utc>>,
    pub held: Option<Held>,
    /// Recent changes of a monitor's health (bounded by the caller).
    pub changes: Vec<DateTime<Utc>>,
    pub flapping: bool,
}

pub fn get(conn: &Connection, key: &str) -> rusqlite::Result<Stream> {
    let row = conn
        .prepare_cached(
            "SELECT last_sent_at, held_notification, held_until, held_from, held_count, changes,
                    flapping
             FROM pacing WHERE key = ?1",
        )?
        .query_row([key], |r| {
            let held = match (
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
            ) {
                (Some(notification), Some(until), Some(from)) => Some(Held {
                    notification,
                    until: from_millis(until),
                    from: from_millis(from),
                    count: r.get(4)?,
                }),
                _ => None,
            };
            let changes: String = r.get(5)?;
            Ok(Stream {
                last_sent_at: r.get::<_, Option<i64>>(0)?.map(from_millis),
                held,
                changes: changes
                    .split(',')
                    .filter_map(|t| t.parse::<i64>().ok())
                    .map(from_millis)
                    .collect(),
                flapping: r.get(6)?,
            })
        })
        .optional()?;
    Ok(row.unwrap_or_default())
}

pub fn put(conn: &Connection, key: &str, s: &Stream) -> rusqlite::Result<()> {
    let changes: Vec<String> = s
        .changes
        .iter()
        .map(|t| to_millis(*t).to_string())
        .collect();
    conn.prepare_cached(
        "INSERT INTO pacing (key, last_sent_at, held_notification, held_until, held_from,
                             held_count, changes, flapping)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (key) DO UPDATE SET last_sent_at = ?2, held_notification = ?3,
             held_until = ?4, held_from = ?5, held_count = ?6, changes = ?7, flapping = ?8",
    )?
    .execute(params![
        key,
        s.last_sent_at.map(to_millis),
        s.held.map(|h| h.notification),
        s.held.map(|h| to_millis(h.until)),
        s.held.map(|h| to_millis(h.from)),
        s.held.map_or(0, |h| h.count),
        changes.join(","),
        s.flapping,
    ])?;
    Ok(())
}

/// Forgets the streams quiet since `before` (retention): a held message goes out at or before
/// The audiences of an incident's streams (`incident:{id}:{audience}`).
pub const INCIDENT_AUDIENCES: [&str; 2] = ["subscribers", "channels"];

/// An incident deleted: what its streams held back goes to nobody (it would tell of, and link
/// to, an incident that is gone), and the streams are forgotten. In the deleting transaction.
pub fn forget_incident(conn: &Connection, incident: i64) -> rusqlite::Result<()> {
    for audience in INCIDENT_AUDIENCES {
        let key = format!("incident:{incident}:{audience}");
        conn.prepare_cached(
            "DELETE FROM deliveries WHERE state = 'pending' AND attempts = 0
             AND notification_id = (SELECT held_notification FROM pacing WHERE key = ?1)",
        )?
        .execute([&key])?;
        conn.prepare_cached(
            "DELETE FROM notifications WHERE id = (SELECT held_notification FROM pacing WHERE key = ?1)
             AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id)",
        )?
        .execute([&key])?;
        conn.prepare_cached("DELETE FROM pacing WHERE key = ?1")?
            .execute([&key])?;
    }
    Ok(())
}

/// `last_sent_at`, so nothing held is forgotten.
pub fn prune(conn: &Connection, before: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM pacing WHERE coalesce(last_sent_at, 0) < ?1",
        [to_millis(before)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_stored_as_written_and_forgotten_when_quiet() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        super::super::migrations::migrate(&mut conn).expect("migrate");
        let t = |s: i64| from_millis(1_800_000_000_000 + s * 1_000);
        assert_eq!(get(&conn, "monitor:blog").expect("get"), Stream::default());
        let stream = Stream {
            last_sent_at: Some(t(600)),
            held: Some(Held {
                notification: 7,
                until: t(600),
                from: t(30),
                count: 3,
            }),
            changes: vec![t(10), t(30)],
            flapping: true,
        };
        put(&conn, "monitor:blog", &stream).expect("put");
        assert_eq!(get(&conn, "monitor:blog").expect("get"), stream);
        assert_eq!(
            prune(&conn, t(600)).expect("prune"),
            0,
            "not before it went"
        );
        assert_eq!(prune(&conn, t(601)).expect("prune"), 1);
    }
}
