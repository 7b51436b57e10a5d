//! Raw check rows: kept for `retention.raw_checks`, then only buckets remain.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::to_millis;
use crate::domain::check::CheckResult;

/// Appends one check. The reason is stored only for checks that were not up.
pub fn insert(conn: &Connection, monitor_row: i64, check: &CheckResult) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO checks (monitor_id, at, verdict, response_ms, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        monitor_row,
        to_millis(check.at),
        check.verdict.code(),
        check.elapsed.as_millis() as i64,
        check.reason,
    ])?;
    Ok(())
}

/// Deletes at most `batch` checks older than `before`; returns how many went.
/// Rows are appended in time order, so the oldest ids are scanned first and the scan stops early.
pub fn delete_older_than(
    conn: &Connection,
    before: DateTime<Utc>,
    batch: usize,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM checks WHERE id IN (SELECT id FROM checks WHERE at < ?1 ORDER BY id LIMIT ?2)",
    )?
    .execute(params![to_millis(before), batch as i64])
}

/// How many raw checks one monitor has (for tests and the CLI).
pub fn count_for(conn: &Connection, monitor_row: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM checks WHERE monitor_id = ?1",
        [monitor_row],
        |r| r.get(0),
    )
}
