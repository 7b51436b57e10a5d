//! The monitors table: synced from the config by id, and each monitor's current state.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;

use super::{from_millis, to_millis};
use crate::domain::check::{CheckResult, Verdict};
use crate::domain::monitor::MonitorInfo;
use crate::domain::status::{Health, MonitorState};

/// The last check of a monitor, as shown on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct LastCheck {
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    pub response_ms: i64,
    pub reason: Option<String>,
}

/// A monitor row as the page and the API need it.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorRow {
    pub row_id: i64,
    pub key: String,
    pub name: String,
    pub group: Option<String>,
    pub kind: String,
    pub target: String,
    pub position: i64,
    pub created_at: DateTime<Utc>,
    /// When what is watched (kind, target: for a job its schedule, period and grace) last
    /// changed: a job's runs are owed from then. A new name or group is not a change of it.
    pub updated_at: DateTime<Utc>,
    pub state: MonitorState,
    pub last: Option<LastCheck>,
}

/// Upserts every configured monitor (by id) and hides the ones no longer configured; their
/// history stays. A renamed or regrouped monitor keeps its state and `updated_at` (a job's
/// expectation): renaming a job that is down must not forgive the run it owes. Returns the
/// row ids in config order.
pub fn sync(
    conn: &Connection,
    specs: &[MonitorInfo],
    now: DateTime<Utc>,
) -> rusqlite::Result<Vec<i64>> {
    let now = to_millis(now);
    conn.execute("UPDATE monitors SET active = 0", [])?;
    let mut upsert = conn.prepare(
        "INSERT INTO monitors (key, name, group_name, kind, target, position, active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)
         ON CONFLICT (key) DO UPDATE SET
             name = excluded.name, group_name = excluded.group_name, kind = excluded.kind,
             target = excluded.target, position = excluded.position, active = 1,
             updated_at = CASE WHEN kind IS excluded.kind AND target IS excluded.target
                          THEN updated_at ELSE excluded.updated_at END
         RETURNING id",
    )?;
    specs
        .iter()
        .enumerate()
        .map(|(position, spec)| {
            upsert.query_row(
                params![
                    spec.id.as_str(),
                    spec.name,
                    spec.group,
                    spec.kind,
                    spec.target,
                    position as i64,
                    now
                ],
                |r| r.get(0),
            )
        })
        .collect()
}

const STATE_COLUMNS: &str =
    "health, health_since, consecutive_failures, consecutive_successes, failing_since";

fn state_from(row: &Row<'_>, offset: usize) -> rusqlite::Result<MonitorState> {
    Ok(MonitorState {
        health: Health::parse(&row.get::<_, String>(offset)?),
        since: row.get::<_, Option<i64>>(offset + 1)?.map(from_millis),
        consecutive_failures: row.get(offset + 2)?,
        consecutive_successes: row.get(offset + 3)?,
        failing_since: row.get::<_, Option<i64>>(offset + 4)?.map(from_millis),
    })
}

/// The state machine's stored state for one monitor.
pub fn load_state(conn: &Connection, row_id: i64) -> rusqlite::Result<MonitorState> {
    conn.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS} FROM monitors WHERE id = ?1"
    ))?
    .query_row([row_id], |r| state_from(r, 0))
    .optional()
    .map(Option::unwrap_or_default)
}

/// Stores the state after a check, with that check as the latest.
pub fn save_state(
    conn: &Connection,
    row_id: i64,
    state: &MonitorState,
    check: &CheckResult,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE monitors SET health = ?2, health_since = ?3, consecutive_failures = ?4,
             consecutive_successes = ?5, last_check_at = ?6, last_verdict = ?7,
             last_response_ms = ?8, last_reason = ?9, failing_since = ?10,
             cert_expires_at = coalesce(?11, cert_expires_at)
         WHERE id = ?1",
    )?
    .execute(params![
        row_id,
        state.health.as_str(),
        state.since.map(to_millis),
        state.consecutive_failures,
        state.consecutive_successes,
        to_millis(check.at),
        check.verdict.code(),
        check.elapsed.as_millis() as i64,
        check.reason,
        state.failing_since.map(to_millis),
        check.cert_expires_at.map(to_millis),
    ])?;
    Ok(())
}

const ROW_COLUMNS: &str = "id, key, name, group_name, kind, target, position, created_at,
    updated_at, last_check_at, last_verdict, last_response_ms, last_reason";

/// Every monitor in the current config, in config order.
pub fn list_active(conn: &Connection) -> rusqlite::Result<Vec<MonitorRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS}, {STATE_COLUMNS} FROM monitors WHERE active = 1 ORDER BY position"
    ))?;
    let rows = stmt.query_map([], monitor_row)?;
    rows.collect()
}

/// One monitor of the current config, by its id.
pub fn get_active(conn: &Connection, key: &str) -> rusqlite::Result<Option<MonitorRow>> {
    conn.prepare_cached(&format!(
        "SELECT {ROW_COLUMNS}, {STATE_COLUMNS} FROM monitors WHERE active = 1 AND key = ?1"
    ))?
    .query_row([key], monitor_row)
    .optional()
}

fn monitor_row(r: &Row<'_>) -> rusqlite::Result<MonitorRow> {
    let last = match r.get::<_, Option<i64>>(9)? {
        Some(at) => Some(LastCheck {
            at: from_millis(at),
            verdict: Verdict::from_code(r.get::<_, Option<i64>>(10)?.unwrap_or(0)),
            response_ms: r.get::<_, Option<i64>>(11)?.unwrap_or(0),
            reason: r.get(12)?,
        }),
        None => None,
    };
    Ok(MonitorRow {
        row_id: r.get(0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        group: r.get(3)?,
        kind: r.get(4)?,
        target: r.get(5)?,
        position: r.get(6)?,
        created_at: from_millis(r.get(7)?),
        updated_at: from_millis(r.get(8)?),
        last,
        state: state_from(r, 13)?,
    })
}

/// What the incident policy needs of a monitor it did not just check.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub name: String,
    pub target: String,
    pub state: MonitorState,
    pub last_reason: Option<String>,
}

pub fn summary(conn: &Connection, row_id: i64) -> rusqlite::Result<Option<Summary>> {
    conn.prepare_cached(&format!(
        "SELECT name, target, last_reason, {STATE_COLUMNS} FROM monitors WHERE id = ?1"
    ))?
    .query_row([row_id], |r| {
        Ok(Summary {
            name: r.get(0)?,
            target: r.get(1)?,
            last_reason: r.get(2)?,
            state: state_from(r, 3)?,
        })
    })
    .optional()
}

/// When each monitor was last checked (rows never checked are left out).
pub fn last_checks(conn: &Connection) -> rusqlite::Result<HashMap<i64, DateTime<Utc>>> {
    conn.prepare("SELECT id, last_check_at FROM monitors WHERE last_check_at IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, from_millis(r.get(1)?))))?
        .collect()
}

/// When the last check was recorded, and its verdict code.
pub fn last_check(
    conn: &Connection,
    row_id: i64,
) -> rusqlite::Result<Option<(DateTime<Utc>, i64)>> {
    conn.prepare_cached("SELECT last_check_at, last_verdict FROM monitors WHERE id = ?1")?
        .query_row([row_id], |r| {
            Ok(
                match (r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?) {
                    (Some(at), Some(verdict)) => Some((from_millis(at), verdict)),
                    _ => None,
                },
            )
        })
        .optional()
        .map(Option::flatten)
}
