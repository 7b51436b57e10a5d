//! Background jobs' pings: each job's run state on its monitor row, and its recent pings
//! (with the first 10 KiB of what it sent) for the owner.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{from_millis, to_millis};
use crate::domain::heartbeat::{JobState, RunEnd, Signal};

/// Pings kept per monitor; older ones are deleted as new ones come.
pub const KEPT_PER_MONITOR: i64 = 100;

/// One stored ping, as the owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PingRow {
    pub at: DateTime<Utc>,
    /// `success`, `start` or `fail`.
    pub kind: String,
    pub exit_status: Option<u8>,
    /// The run it ended, when its start was pinged.
    pub duration: Option<Duration>,
    pub body: Option<String>,
}

/// A ping to store.
#[derive(Debug, Clone)]
pub struct NewPing<'a> {
    pub at: DateTime<Utc>,
    pub signal: Signal,
    pub duration: Option<Duration>,
    pub body: Option<&'a str>,
}

/// What is stored of a job's runs (the default before its first ping).
pub fn job_state(conn: &Connection, row_id: i64) -> rusqlite::Result<JobState> {
    conn.prepare_cached(
        "SELECT last_ping_at, last_ping_failed, last_exit_status, last_success_at, run_started_at,
                updated_at
         FROM monitors WHERE id = ?1",
    )?
    .query_row([row_id], |r| {
        let last_end = r.get::<_, Option<i64>>(0)?.map(|at| RunEnd {
            at: from_millis(at),
            failed: r.get::<_, bool>(1).unwrap_or(false),
            exit_status: r
                .get::<_, Option<i64>>(2)
                .ok()
                .flatten()
                .and_then(|c| u8::try_from(c).ok()),
        });
        Ok(JobState {
            last_end,
            last_success: r.get::<_, Option<i64>>(3)?.map(from_millis),
            started: r.get::<_, Option<i64>>(4)?.map(from_millis),
            // The row changes when the monitor's target (its schedule, period, grace) does.
            expect_since: r.get::<_, Option<i64>>(5)?.map(from_millis),
        })
    })
    .optional()
    .map(Option::unwrap_or_default)
}

/// Stores a ping and the job's state after it; keeps the last [`KEPT_PER_MONITOR`] pings.
pub fn record(
    conn: &Connection,
    row_id: i64,
    state: &JobState,
    ping: &NewPing<'_>,
) -> rusqlite::Result<()> {
    let end = state.last_end;
    let duration_ms = ping
        .duration
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    conn.prepare_cached(
        "UPDATE monitors SET last_ping_at = ?2, last_ping_failed = ?3, last_exit_status = ?4,
             last_success_at = ?5, run_started_at = ?6,
             last_run_ms = COALESCE(?7, last_run_ms)
         WHERE id = ?1",
    )?
    .execute(params![
        row_id,
        end.map(|e| to_millis(e.at)),
        end.is_some_and(|e| e.failed),
        end.and_then(|e| e.exit_status),
        state.last_success.map(to_millis),
        state.started.map(to_millis),
        duration_ms,
    ])?;
    conn.prepare_cached(
        "INSERT INTO pings (monitor_id, at, kind, exit_status, duration_ms, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        row_id,
        to_millis(ping.at),
        ping.signal.kind(),
        ping.signal.exit_status(),
        duration_ms,
        ping.body,
    ])?;
    conn.prepare_cached(
        "DELETE FROM pings WHERE monitor_id = ?1 AND id <= (
             SELECT id FROM pings WHERE monitor_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    )?
    .execute(params![row_id, KEPT_PER_MONITOR])?;
    Ok(())
}

/// The latest `limit` pings of a monitor, newest first.
pub fn recent(conn: &Connection, row_id: i64, limit: i64) -> rusqlite::Result<Vec<PingRow>> {
    conn.prepare_cached(
        "SELECT at, kind, exit_status, duration_ms, body FROM pings
         WHERE monitor_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?
    .query_map(params![row_id, limit], |r| {
        Ok(PingRow {
            at: from_millis(r.get(0)?),
            kind: r.get(1)?,
            exit_status: r
                .get::<_, Option<i64>>(2)?
                .and_then(|c| u8::try_from(c).ok()),
            duration: r
                .get::<_, Option<i64>>(3)?
                .and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis),
            body: r.get(4)?,
        })
    })?
    .collect()
}

/// A job's last success and how long its last measured run took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastRun {
    pub success: Option<DateTime<Utc>>,
    pub duration: Option<Duration>,
}

/// The last run of every job that reported one, by monitor row.
pub fn last_runs(conn: &Connection) -> rusqlite::Result<HashMap<i64, LastRun>> {
    conn.prepare_cached(
        "SELECT id, last_success_at, last_run_ms FROM monitors
         WHERE active = 1 AND (last_success_at IS NOT NULL OR last_run_ms IS NOT NULL)",
    )?
    .query_map([], |r| {
        Ok((
            r.get(0)?,
            LastRun {
                success: r.get::<_, Option<i64>>(1)?.map(from_millis),
                duration: r
                    .get::<_, Option<i64>>(2)?
                    .and_then(|ms| u64::try_from(ms).ok())
                    .map(Duration::from_millis),
            },
        ))
    })?
    .collect()
}

/// Deletes the pings of monitors no longer configured (their output included); the count.
pub fn forget_removed(conn: &Connection) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM pings WHERE monitor_id IN (SELECT id FROM monitors WHERE active = 0)",
        [],
    )
}
