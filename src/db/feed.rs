//! Incident updates as feeds list them: newest first, with their incident's name and components.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::incidents::{UPDATE_COLUMNS, UpdateRecord, update_changes, update_from};
use super::{from_millis, to_millis};
use crate::domain::incident::Kind;

/// One update as a feed shows it: with its incident's name and components.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    pub update: UpdateRecord,
    pub incident_name: String,
    pub kind: Kind,
    /// Names of the components the incident affects.
    pub components: Vec<String>,
    /// A maintenance's window (start, end); `None` for an incident.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The newest updates since `since`, at most `limit`; only those of incidents affecting
/// `monitor_row` when given.
pub fn recent_updates(
    conn: &Connection,
    since: DateTime<Utc>,
    limit: usize,
    monitor_row: Option<i64>,
) -> rusqlite::Result<Vec<FeedEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {UPDATE_COLUMNS}, i.name, i.kind, i.scheduled_for, i.scheduled_until
         FROM incident_updates u JOIN incidents i ON i.id = u.incident_id
         WHERE u.display_at >= ?1
           AND (?2 IS NULL OR EXISTS (SELECT 1 FROM incident_components c
                                      WHERE c.incident_id = u.incident_id AND c.monitor_id = ?2))
         ORDER BY u.display_at DESC, u.id DESC LIMIT ?3"
    ))?;
    let entries = stmt
        .query_map(params![to_millis(since), monitor_row, limit as i64], |r| {
            Ok(FeedEntry {
                update: update_from(r)?,
                incident_name: r.get(8)?,
                kind: Kind::parse(&r.get::<_, String>(9)?),
                components: Vec::new(),
                window: match (r.get::<_, Option<i64>>(10)?, r.get::<_, Option<i64>>(11)?) {
                    (Some(from), Some(until)) => Some((from_millis(from), from_millis(until))),
                    _ => None,
                },
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut names = conn.prepare_cached(
        "SELECT m.name FROM incident_components c JOIN monitors m ON m.id = c.monitor_id
         WHERE c.incident_id = ?1 ORDER BY m.position",
    )?;
    entries
        .into_iter()
        .map(|mut e| {
            e.update.changes = update_changes(conn, e.update.id)?;
            e.components = names
                .query_map([e.update.incident_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(e)
        })
        .collect()
}
