//! What the page indicator is made of, read one monitor or one incident at a time — so the
//! notifier's outbox keeps the indicator up to date with work proportional to a change
//! (`notify/page.rs`) — or all at once, when it starts over.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row};

use super::from_millis;
use crate::domain::incident::Kind;
use crate::domain::status::{ComponentStatus, Health, Impact};

/// An incident or maintenance, as far as the page indicator cares.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentFacts {
    pub id: i64,
    pub kind: Kind,
    pub impact: Impact,
    /// An incident not resolved, or a maintenance not completed.
    pub open: bool,
    /// A maintenance's window, when it has one.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The monitor rows it lists.
    pub rows: Vec<i64>,
}

const FACTS: &str = "SELECT id, kind, impact,
        CASE kind WHEN 'incident' THEN resolved_at IS NULL ELSE status != 'completed' END,
        scheduled_for, scheduled_until
     FROM incidents";

fn facts(r: &Row<'_>) -> rusqlite::Result<IncidentFacts> {
    let from: Option<i64> = r.get(4)?;
    let until: Option<i64> = r.get(5)?;
    Ok(IncidentFacts {
        id: r.get(0)?,
        kind: Kind::parse(&r.get::<_, String>(1)?),
        impact: Impact::parse(&r.get::<_, String>(2)?).unwrap_or(Impact::None),
        open: r.get(3)?,
        window: from
            .zip(until)
            .map(|(f, u)| (from_millis(f), from_millis(u))),
        rows: Vec::new(),
    })
}

fn with_rows(conn: &Connection, mut incident: IncidentFacts) -> rusqlite::Result<IncidentFacts> {
    let mut stmt =
        conn.prepare_cached("SELECT monitor_id FROM incident_components WHERE incident_id = ?1")?;
    incident.rows = stmt
        .query_map([incident.id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(incident)
}

/// One incident or maintenance, if it still exists.
pub fn incident(conn: &Connection, id: i64) -> rusqlite::Result<Option<IncidentFacts>> {
    let found = conn
        .prepare_cached(&format!("{FACTS} WHERE id = ?1"))?
        .query_row([id], facts)
        .optional()?;
    found.map(|i| with_rows(conn, i)).transpose()
}

/// Every incident not resolved and every maintenance not completed.
pub fn open_incidents(conn: &Connection) -> rusqlite::Result<Vec<IncidentFacts>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{FACTS} WHERE (kind = 'incident' AND resolved_at IS NULL)
            OR (kind = 'maintenance' AND status != 'completed')"
    ))?;
    let heads = stmt
        .query_map([], facts)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    heads.into_iter().map(|i| with_rows(conn, i)).collect()
}

/// Every active monitor's row and health.
pub fn active_health(conn: &Connection) -> rusqlite::Result<Vec<(i64, Health)>> {
    let mut stmt = conn.prepare_cached("SELECT id, health FROM monitors WHERE active = 1")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, Health::parse(&r.get::<_, String>(1)?)))
    })?;
    rows.collect()
}

/// The row of the active monitor `key`.
pub fn active_row(conn: &Connection, key: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM monitors WHERE active = 1 AND key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// What makes one monitor's component status: its health (`None` when it is not active), the
/// statuses open incidents give it, and whether a maintenance window covers it at `now`.
pub fn component_inputs(
    conn: &Connection,
    row: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<(Health, Vec<ComponentStatus>, bool)>> {
    let health = conn
        .prepare_cached("SELECT health FROM monitors WHERE id = ?1 AND active = 1")?
        .query_row([row], |r| Ok(Health::parse(&r.get::<_, String>(0)?)))
        .optional()?;
    let Some(health) = health else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT c.status FROM incident_components c JOIN incidents i ON i.id = c.incident_id
         WHERE c.monitor_id = ?1 AND i.kind = 'incident' AND i.resolved_at IS NULL",
    )?;
    let statuses = stmt
        .query_map([row], |r| {
            Ok(ComponentStatus::parse(&r.get::<_, String>(0)?)
                .unwrap_or(ComponentStatus::Operational))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let in_maintenance = super::incidents::monitor_in_maintenance(conn, row, now)?;
    Ok(Some((health, statuses, in_maintenance)))
}
