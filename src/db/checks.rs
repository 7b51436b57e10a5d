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

/// Ids of at most `limit` checks older than `before`. Run it on a reader: the scan can be
/// long (raw checks have no index on time), and it then holds no lock the writer needs.
pub fn ids_older_than(
    conn: &Connection,
    before: DateTime<Utc>,
    limit: usize,
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM checks WHERE at < ?1 LIMIT ?2")?;
    let rows = stmt.query_map(params![to_millis(before), limit as i64], |r| r.get(0))?;
    rows.collect()
}

/// Deletes checks by id: quick, by primary key, so the writer is held only briefly.
pub fn delete_ids(conn: &Connection, ids: &[i64]) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare_cached("DELETE FROM checks WHERE id = ?1")?;
    let mut deleted = 0;
    for id in ids {
        deleted += stmt.execute([id])?;
    }
    Ok(deleted)
}

/// How many raw checks one monitor has (for tests and the CLI).
pub fn count_for(conn: &Connection, monitor_row: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM checks WHERE monitor_id = ?1",
        [monitor_row],
        |r| r.get(0),
    )
}
