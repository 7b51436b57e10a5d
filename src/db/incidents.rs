//! The incidents table (incidents and maintenances), their updates and affected components.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{from_millis, to_millis};
use crate::domain::incident::{Kind, Status};
use crate::domain::policy::{OpenIncident, Resolved, Window};
use crate::domain::status::{ComponentStatus, Impact};

/// A component as an incident lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct AffectedComponent {
    pub monitor_row: i64,
    pub key: String,
    pub name: String,
    /// The status this incident gives the component.
    pub status: ComponentStatus,
}

/// One component's change in one update.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentChange {
    pub key: String,
    pub name: String,
    /// `None`: the component had no status before (never checked).
    pub old: Option<ComponentStatus>,
    pub new: ComponentStatus,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRecord {
    pub id: i64,
    pub incident_id: i64,
    pub status: Status,
    /// Markdown as written.
    pub body: String,
    /// Sanitized HTML rendered from `body` when it was written.
    pub body_html: String,
    pub automatic: bool,
    pub created_at: DateTime<Utc>,
    pub display_at: DateTime<Utc>,
    pub changes: Vec<ComponentChange>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    pub id: i64,
    pub kind: Kind,
    pub name: String,
    pub status: Status,
    pub impact: Impact,
    /// The monitor whose outage the poller opened this for.
    pub monitor_row: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub monitoring_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub scheduled_until: Option<DateTime<Utc>>,
    /// A maintenance's iCalendar SEQUENCE: raised whenever its times change.
    pub sequence: i64,
    pub components: Vec<AffectedComponent>,
    /// Newest first.
    pub updates: Vec<UpdateRecord>,
}

/// The columns an insert needs.
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub kind: Kind,
    pub name: String,
    pub status: Status,
    pub impact: Impact,
    pub monitor_row: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub scheduled_for: Option<DateTime<Utc>>,
    pub scheduled_until: Option<DateTime<Utc>>,
}

pub fn insert(conn: &Connection, new: &NewIncident, now: DateTime<Utc>) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO incidents (kind, name, status, impact, monitor_id, created_at, updated_at, started_at,
                                scheduled_for, scheduled_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        new.kind.as_str(),
        new.name,
        new.status.as_str(),
        new.impact.as_str(),
        new.monitor_row,
        to_millis(now),
        to_millis(new.started_at),
        new.scheduled_for.map(to_millis),
        new.scheduled_until.map(to_millis),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Sets the status, stamping `monitoring_at` and `resolved_at` the first time they apply.
pub fn set_status(
    conn: &Connection,
    id: i64,
    status: Status,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let now = to_millis(now);
    conn.prepare_cached(
        "UPDATE incidents SET status = ?2, updated_at = ?3,
             monitoring_at = CASE WHEN ?2 = 'monitoring' THEN coalesce(monitoring_at, ?3) ELSE monitoring_at END,
             resolved_at = CASE WHEN ?4 THEN coalesce(resolved_at, ?3) ELSE NULL END
         WHERE id = ?1",
    )?
    .execute(params![id, status.as_str(), now, status.is_closed()])?;
    Ok(())
}

pub fn rename(
    conn: &Connection,
    id: i64,
    name: Option<&str>,
    impact: Option<Impact>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE incidents SET name = coalesce(?2, name), impact = coalesce(?3, impact), updated_at = ?4 WHERE id = ?1",
        params![id, name, impact.map(Impact::as_str), to_millis(now)],
    )?;
    Ok(())
}

pub fn set_schedule(
    conn: &Connection,
    id: i64,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE incidents SET scheduled_for = ?2, scheduled_until = ?3, started_at = ?2, updated_at = ?4 WHERE id = ?1",
        params![id, to_millis(from), to_millis(until), to_millis(now)],
    )?;
    Ok(())
}

/// Raises a maintenance's iCalendar SEQUENCE: calendar clients replace their copy.
pub fn raise_sequence(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE incidents SET sequence = sequence + 1 WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM incidents WHERE id = ?1", [id])? > 0)
}

/// The columns of a new update.
#[derive(Debug, Clone, Copy)]
pub struct NewUpdate<'a> {
    pub incident_id: i64,
    pub status: Status,
    /// Markdown as written.
    pub body: &'a str,
    /// `body` rendered and sanitized.
    pub body_html: &'a str,
    /// Written by the poller or the clock rather than the owner.
    pub automatic: bool,
    pub at: DateTime<Utc>,
}

/// What `update_components.old_status` holds for a component that had no status before.
const NO_STATUS: &str = "unknown";

/// Appends an update with its `(monitor row, old, new)` component changes; returns its id.
pub fn insert_update(
    conn: &Connection,
    u: &NewUpdate<'_>,
    changes: &[(i64, Option<ComponentStatus>, ComponentStatus)],
) -> rusqlite::Result<i64> {
    let (incident_id, now) = (u.incident_id, u.at);
    conn.prepare_cached(
        "INSERT INTO incident_updates (incident_id, status, body, body_html, automatic, created_at, display_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![incident_id, u.status.as_str(), u.body, u.body_html, u.automatic, to_millis(now)])?;
    let update_id = conn.last_insert_rowid();
    let mut insert = conn.prepare_cached(
        "INSERT INTO update_components (update_id, monitor_id, old_status, new_status) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (monitor, old, new) in changes {
        // The column is NOT NULL: a component never checked before is stored as `unknown`.
        let old = old.map_or(NO_STATUS, ComponentStatus::as_str);
        insert.execute(params![update_id, monitor, old, new.as_str()])?;
    }
    conn.execute(
        "UPDATE incidents SET updated_at = ?2 WHERE id = ?1",
        params![incident_id, to_millis(now)],
    )?;
    Ok(update_id)
}

/// Sets the status this incident gives a component (adding it when new).
pub fn set_component(
    conn: &Connection,
    incident_id: i64,
    monitor_row: i64,
    status: ComponentStatus,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO incident_components (incident_id, monitor_id, status) VALUES (?1, ?2, ?3)
         ON CONFLICT (incident_id, monitor_id) DO UPDATE SET status = excluded.status",
    )?
    .execute(params![incident_id, monitor_row, status.as_str()])?;
    Ok(())
}

/// The current status an incident gives each of its components, by monitor row.
pub fn component_statuses(
    conn: &Connection,
    incident_id: i64,
) -> rusqlite::Result<HashMap<i64, ComponentStatus>> {
    let mut stmt = conn.prepare_cached(
        "SELECT monitor_id, status FROM incident_components WHERE incident_id = ?1",
    )?;
    let rows = stmt.query_map([incident_id], |r| {
        Ok((r.get(0)?, parse_component(&r.get::<_, String>(1)?)))
    })?;
    rows.collect()
}

/// For every component affected by an open incident: the statuses those incidents give it.
pub fn open_component_statuses(
    conn: &Connection,
) -> rusqlite::Result<HashMap<i64, Vec<ComponentStatus>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.monitor_id, c.status FROM incident_components c JOIN incidents i ON i.id = c.incident_id
         WHERE i.kind = 'incident' AND i.resolved_at IS NULL",
    )?;
    let mut out: HashMap<i64, Vec<ComponentStatus>> = HashMap::new();
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))? {
        let (monitor, status) = row?;
        out.entry(monitor)
            .or_default()
            .push(parse_component(&status));
    }
    Ok(out)
}

/// Monitor rows inside an active maintenance window at `now`.
pub fn monitors_in_maintenance(
    conn: &Connection,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT c.monitor_id FROM incident_components c JOIN incidents i ON i.id = c.incident_id
         WHERE i.kind = 'maintenance' AND i.status != 'completed'
           AND i.scheduled_for <= ?1 AND ?1 < i.scheduled_until",
    )?;
    let rows = stmt.query_map([to_millis(now)], |r| r.get(0))?;
    rows.collect()
}

/// Whether a maintenance window of `monitor_row` is on at `at` (the predicate of
/// [`monitors_in_maintenance`], for one monitor: asked for every check, so it reads only the
/// unfinished maintenances, through their partial index).
pub fn monitor_in_maintenance(
    conn: &Connection,
    monitor_row: i64,
    at: DateTime<Utc>,
) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM incidents i INDEXED BY maintenances_unfinished
                        JOIN incident_components c ON c.incident_id = i.id AND c.monitor_id = ?1
                        WHERE i.kind = 'maintenance' AND i.status != 'completed'
                          AND i.scheduled_until > ?2 AND i.scheduled_for <= ?2)",
    )?;
    stmt.query_row(params![monitor_row, to_millis(at)], |r| r.get(0))
}

/// The open incidents that list a monitor: the poller's own one for it, and the owner's.
pub fn open_covering(conn: &Connection, monitor_row: i64) -> rusqlite::Result<Vec<OpenIncident>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT i.id, i.status, i.monitor_id IS ?1, {OWNER_WROTE} FROM incidents i
         WHERE i.kind = 'incident' AND i.resolved_at IS NULL
           AND (i.monitor_id = ?1 OR EXISTS (SELECT 1 FROM incident_components c
                                              WHERE c.incident_id = i.id AND c.monitor_id = ?1))"
    ))?;
    let rows = stmt.query_map([monitor_row], |r| {
        Ok(OpenIncident {
            id: r.get(0)?,
            status: parse_status(&r.get::<_, String>(1)?),
            opened_for_it: r.get(2)?,
            owner_wrote: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// True (in SQL, for incident `i`) when the owner opened it or posted to it.
const OWNER_WROTE: &str = "(i.monitor_id IS NULL OR EXISTS (SELECT 1 FROM incident_updates w
                            WHERE w.incident_id = i.id AND w.automatic = 0))";

/// The poller's newest incident for a monitor, when it is resolved (a reopen candidate).
/// A monitor's newest automatic incident, read on every change of its health: through
/// `incidents_by_monitor`, never a scan of the incidents.
pub(crate) fn last_resolved_sql() -> String {
    format!(
        "SELECT i.id, i.resolved_at, {OWNER_WROTE} FROM incidents i
         WHERE i.kind = 'incident' AND i.monitor_id = ?1
         ORDER BY i.id DESC LIMIT 1"
    )
}

pub fn last_resolved_for(
    conn: &Connection,
    monitor_row: i64,
) -> rusqlite::Result<Option<Resolved>> {
    let newest = conn
        .prepare_cached(&last_resolved_sql())?
        .query_row([monitor_row], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, bool>(2)?,
            ))
        })
        .optional()?;
    Ok(newest.and_then(|(id, resolved_at, owner_wrote)| {
        Some(Resolved {
            id,
            resolved_at: from_millis(resolved_at?),
            owner_wrote,
        })
    }))
}

/// The maintenance windows not yet over that list a monitor.
pub fn windows_covering(conn: &Connection, monitor_row: i64) -> rusqlite::Result<Vec<Window>> {
    let mut stmt = conn.prepare_cached(
        "SELECT i.scheduled_for, i.scheduled_until FROM incidents i
         JOIN incident_components c ON c.incident_id = i.id AND c.monitor_id = ?1
         WHERE i.kind = 'maintenance' AND i.status != 'completed'
           AND i.scheduled_for IS NOT NULL AND i.scheduled_until IS NOT NULL",
    )?;
    let rows = stmt.query_map([monitor_row], |r| {
        Ok(Window {
            from: from_millis(r.get(0)?),
            until: from_millis(r.get(1)?),
            over: false,
            monitors: vec![monitor_row],
        })
    })?;
    rows.collect()
}

/// Removes every component from an incident or maintenance.
pub fn clear_components(conn: &Connection, incident_id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM incident_components WHERE incident_id = ?1",
        [incident_id],
    )?;
    Ok(())
}

/// Which incidents to list.
#[derive(Debug, Clone, Copy)]
pub enum Filter {
    /// Incidents not yet resolved.
    OpenIncidents,
    /// The latest incidents, open or not.
    RecentIncidents(usize),
    /// Maintenances not completed whose window has not ended.
    PlannedMaintenances,
    /// Maintenances not completed whose window has ended.
    OverdueMaintenances,
    /// The latest maintenances.
    RecentMaintenances(usize),
    /// Incidents that started in `[from, until)`.
    IncidentsBetween(DateTime<Utc>, DateTime<Utc>),
    /// Maintenances not completed, or whose window ended at `since` or later: the latest
    /// `n` by their start.
    MaintenancesSince(DateTime<Utc>, usize),
}

const COLUMNS: &str =
    "id, kind, name, status, impact, monitor_id, created_at, updated_at, started_at,
                       monitoring_at, resolved_at, scheduled_for, scheduled_until, sequence";

pub fn list(
    conn: &Connection,
    filter: Filter,
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<IncidentRecord>> {
    let (sql, args): (String, Vec<i64>) = match filter {
        Filter::OpenIncidents => (
            format!("SELECT {COLUMNS} FROM incidents WHERE kind = 'incident' AND resolved_at IS NULL ORDER BY started_at DESC, id DESC"),
            vec![],
        ),
        Filter::RecentIncidents(n) => (
            format!("SELECT {COLUMNS} FROM incidents WHERE kind = 'incident' ORDER BY started_at DESC, id DESC LIMIT ?1"),
            vec![n as i64],
        ),
        Filter::PlannedMaintenances => (
            format!("SELECT {COLUMNS} FROM incidents WHERE kind = 'maintenance' AND status != 'completed'
                     AND scheduled_until > ?1 ORDER BY scheduled_for, id"),
            vec![to_millis(now)],
        ),
        Filter::OverdueMaintenances => (
            format!("SELECT {COLUMNS} FROM incidents WHERE kind = 'maintenance' AND status != 'completed'
                     AND scheduled_until <= ?1 ORDER BY scheduled_for, id"),
            vec![to_millis(now)],
        ),
        Filter::RecentMaintenances(n) => (
            format!("SELECT {COLUMNS} FROM incidents WHERE kind = 'maintenance' ORDER BY scheduled_for DESC, id DESC LIMIT ?1"),
            vec![n as i64],
        ),
        Filter::IncidentsBetween(from, until) => (
            format!("SELECT {COLUMNS} FROM incidents WHERE kind = 'incident' AND started_at >= ?1 AND started_at < ?2
                     ORDER BY started_at DESC, id DESC"),
            vec![to_millis(from), to_millis(until)],
        ),
        Filter::MaintenancesSince(since, n) => (
            format!("SELECT {COLUMNS} FROM incidents WHERE kind = 'maintenance'
                     AND (status != 'completed' OR scheduled_until >= ?1)
                     ORDER BY scheduled_for DESC, id DESC LIMIT ?2"),
            vec![to_millis(since), n as i64],
        ),
    };
    let mut stmt = conn.prepare_cached(&sql)?;
    let heads = stmt
        .query_map(rusqlite::params_from_iter(args), head)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    heads.into_iter().map(|h| fill(conn, h)).collect()
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<IncidentRecord>> {
    let head = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM incidents WHERE id = ?1"))?
        .query_row([id], head)
        .optional()?;
    head.map(|h| fill(conn, h)).transpose()
}

/// The start of the oldest incident, for history paging.
pub fn oldest_start(conn: &Connection) -> rusqlite::Result<Option<DateTime<Utc>>> {
    conn.query_row(
        "SELECT min(started_at) FROM incidents WHERE kind = 'incident'",
        [],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|v| v.map(from_millis))
}

pub(super) fn parse_status(text: &str) -> Status {
    Status::parse(text).unwrap_or(Status::Investigating)
}

fn parse_component(text: &str) -> ComponentStatus {
    ComponentStatus::parse(text).unwrap_or(ComponentStatus::Operational)
}

fn head(r: &Row<'_>) -> rusqlite::Result<IncidentRecord> {
    let time = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(from_millis))
    };
    Ok(IncidentRecord {
        id: r.get(0)?,
        kind: Kind::parse(&r.get::<_, String>(1)?),
        name: r.get(2)?,
        status: parse_status(&r.get::<_, String>(3)?),
        impact: Impact::parse(&r.get::<_, String>(4)?).unwrap_or(Impact::None),
        monitor_row: r.get(5)?,
        created_at: from_millis(r.get(6)?),
        updated_at: from_millis(r.get(7)?),
        started_at: from_millis(r.get(8)?),
        monitoring_at: time(9)?,
        resolved_at: time(10)?,
        scheduled_for: time(11)?,
        scheduled_until: time(12)?,
        sequence: r.get(13)?,
        components: Vec::new(),
        updates: Vec::new(),
    })
}

/// Loads an incident's components and updates (with their component changes).
fn fill(conn: &Connection, mut incident: IncidentRecord) -> rusqlite::Result<IncidentRecord> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.monitor_id, m.key, m.name, c.status FROM incident_components c JOIN monitors m ON m.id = c.monitor_id
         WHERE c.incident_id = ?1 ORDER BY m.position",
    )?;
    incident.components = stmt
        .query_map([incident.id], |r| {
            Ok(AffectedComponent {
                monitor_row: r.get(0)?,
                key: r.get(1)?,
                name: r.get(2)?,
                status: parse_component(&r.get::<_, String>(3)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {UPDATE_COLUMNS} FROM incident_updates u
         WHERE u.incident_id = ?1 ORDER BY u.display_at DESC, u.id DESC"
    ))?;
    let mut updates = stmt
        .query_map([incident.id], update_from)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for update in &mut updates {
        update.changes = update_changes(conn, update.id)?;
    }
    incident.updates = updates;
    Ok(incident)
}

/// True when a maintenance should start or end at `now`.
pub fn maintenance_due(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM incidents WHERE kind = 'maintenance' AND status != 'completed'
             AND ((status = 'scheduled' AND scheduled_for <= ?1) OR scheduled_until <= ?1))",
    )?
    .query_row([to_millis(now)], |r| r.get(0))
}

/// The next time a maintenance starts or ends (`None`: none is scheduled or under way).
pub fn next_maintenance_boundary(conn: &Connection) -> rusqlite::Result<Option<DateTime<Utc>>> {
    conn.prepare_cached(
        "SELECT MIN(CASE WHEN status = 'scheduled' THEN scheduled_for ELSE scheduled_until END)
         FROM incidents WHERE kind = 'maintenance' AND status != 'completed'",
    )?
    .query_row([], |r| Ok(r.get::<_, Option<i64>>(0)?.map(from_millis)))
}

/// The component changes one update made, in page order.
/// The columns [`update_from`] reads, for a query naming `incident_updates` as `u`.
pub(super) const UPDATE_COLUMNS: &str =
    "u.id, u.incident_id, u.status, u.body, u.body_html, u.automatic, u.created_at, u.display_at";

/// An update from a row starting with [`UPDATE_COLUMNS`]; its changes are loaded apart.
pub(super) fn update_from(r: &Row<'_>) -> rusqlite::Result<UpdateRecord> {
    Ok(UpdateRecord {
        id: r.get(0)?,
        incident_id: r.get(1)?,
        status: parse_status(&r.get::<_, String>(2)?),
        body: r.get(3)?,
        body_html: r.get(4)?,
        automatic: r.get(5)?,
        created_at: from_millis(r.get(6)?),
        display_at: from_millis(r.get(7)?),
        changes: Vec::new(),
    })
}

pub(super) fn update_changes(
    conn: &Connection,
    update_id: i64,
) -> rusqlite::Result<Vec<ComponentChange>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.key, m.name, u.old_status, u.new_status FROM update_components u JOIN monitors m ON m.id = u.monitor_id
         WHERE u.update_id = ?1 ORDER BY m.position",
    )?;
    let rows = stmt.query_map([update_id], |r| {
        Ok(ComponentChange {
            key: r.get(0)?,
            name: r.get(1)?,
            old: ComponentStatus::parse(&r.get::<_, String>(2)?),
            new: parse_component(&r.get::<_, String>(3)?),
        })
    })?;
    rows.collect()
}

/// Open incidents the poller opened for monitors no longer in the config: `(id, monitor row, name)`.
pub fn open_for_removed_monitors(conn: &Connection) -> rusqlite::Result<Vec<(i64, i64, String)>> {
    let mut stmt = conn.prepare(
        "SELECT i.id, m.id, m.name FROM incidents i JOIN monitors m ON m.id = i.monitor_id
         WHERE i.resolved_at IS NULL AND m.active = 0",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// Every incident and maintenance as `(id, updated_at in ms, still open)`: what an export
/// must write (open ones show a running duration, so they are always written).
pub fn versions(conn: &Connection) -> rusqlite::Result<Vec<(i64, i64, bool)>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, updated_at, resolved_at IS NULL FROM incidents ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}
