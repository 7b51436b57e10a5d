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

/// The first check at or after an id: one step down the primary key.
const FIRST_FROM: &str = "SELECT id, at FROM checks WHERE id >= ?1 ORDER BY id LIMIT 1";
/// min and max of the primary key: one lookup at either end of it.
const ID_RANGE: &str = "SELECT (SELECT min(id) FROM checks), (SELECT max(id) FROM checks)";
/// Old checks in one id range: a range of the primary key, never the whole table.
const DELETE_RANGE: &str = "DELETE FROM checks WHERE id > ?1 AND id <= ?2 AND at < ?3";

/// Every statement retention runs on the checks table (their query plans are tested).
pub const RETENTION_SQL: &[&str] = &[FIRST_FROM, ID_RANGE, DELETE_RANGE];

/// The smallest and largest check ids, if there are checks.
pub fn id_range(conn: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.prepare_cached(ID_RANGE)?.query_row([], |r| {
        Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?))
    })
}

/// The last check id dated before `before`, found by a binary search on the primary key:
/// checks are written in the order they are made, so their ids are in time order (a check
/// written a few seconds late, after a younger one, is left for the next pass). About
/// 2·log2(rows) index lookups, never a read of the table — which has no index on time.
pub fn last_id_before(conn: &Connection, before: DateTime<Utc>) -> rusqlite::Result<Option<i64>> {
    let Some((first, last)) = id_range(conn)? else {
        return Ok(None);
    };
    let before = to_millis(before);
    let mut stmt = conn.prepare_cached(FIRST_FROM)?;
    let mut at_or_after = |id: i64| -> rusqlite::Result<Option<(i64, i64)>> {
        match stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))) {
            Ok(row) => Ok(Some(row)),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    };
    // Invariant: the check at `found` (if any) is old; every id past `hi` is young or absent.
    let (mut found, mut lo, mut hi) = (None, first, last);
    while lo <= hi {
        let mid = lo + (hi - lo) / 2;
        match at_or_after(mid)? {
            Some((id, at)) if id <= hi && at < before => {
                found = Some(id);
                lo = id + 1;
            }
            _ => hi = mid - 1,
        }
    }
    Ok(found)
}

/// Deletes the checks with `after < id <= up_to` dated before `before`: one bounded range of
/// the primary key, so the writer is held only briefly.
pub fn delete_range(
    conn: &Connection,
    after: i64,
    up_to: i64,
    before: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(DELETE_RANGE)?
        .execute(params![after, up_to, to_millis(before)])
}

/// How many raw checks one monitor has (for tests and the CLI).
pub fn count_for(conn: &Connection, monitor_row: i64) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM checks WHERE monitor_id = ?1",
        [monitor_row],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checks table is the biggest by far and has no index on time: retention must find
    /// its rows by id ranges (in time order), never by reading the whole table.
    #[test]
    fn retention_never_scans_the_checks_table() {
        let dir = tempfile::tempdir().expect("dir");
        let db = crate::db::Db::open(&dir.path().join("t.db")).expect("db");
        let plans = db
            .read_blocking(|conn| {
                let mut plans = Vec::new();
                for sql in RETENTION_SQL {
                    plans.push((sql.to_string(), crate::db::query_plan(conn, sql)?));
                }
                Ok(plans)
            })
            .expect("plans");
        for (sql, plan) in plans {
            assert!(!plan.contains("SCAN checks"), "{sql}: {plan}");
        }
    }

    #[test]
    fn the_cut_off_is_the_last_old_id_and_ranges_delete_only_old_checks() {
        let dir = tempfile::tempdir().expect("dir");
        let db = crate::db::Db::open(&dir.path().join("t.db")).expect("db");
        let base = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        let minutes = |m: i64| base + chrono::Duration::minutes(m);
        let left = db
            .write_blocking(|conn| {
                conn.execute(
                    "INSERT INTO monitors (id, key, name, kind, target, position, created_at, updated_at)
                     VALUES (1, 'm', 'm', 'http', 'x', 0, 0, 0)",
                    [],
                )?;
                assert_eq!(last_id_before(conn, minutes(0))?, None, "no checks");
                // Minutes 0..100, one written late (after minute 51 comes minute 49).
                let mut at: Vec<i64> = (0..100).collect();
                at.swap(50, 51);
                for m in &at {
                    let check = CheckResult::up(minutes(*m), std::time::Duration::ZERO);
                    insert(conn, 1, &check)?;
                }
                assert_eq!(last_id_before(conn, minutes(0))?, None, "none older");
                assert_eq!(last_id_before(conn, minutes(10))?, Some(10));
                assert_eq!(last_id_before(conn, minutes(1_000))?, Some(100));
                let cut = last_id_before(conn, minutes(51))?.expect("old ones");
                assert!((50..=52).contains(&cut), "{cut}");
                let mut deleted = 0;
                let mut after = 0;
                while after < cut {
                    let up_to = (after + 7).min(cut);
                    deleted += delete_range(conn, after, up_to, minutes(51))?;
                    after = up_to;
                }
                // Minute 50, written after minute 51, waits for the next pass.
                assert_eq!(deleted, usize::try_from(cut).expect("id"));
                let count = |sql: &str| conn.query_row(sql, [cut, to_millis(minutes(51))], |r| r.get::<_, i64>(0));
                Ok((
                    count("SELECT count(*) FROM checks WHERE id <= ?1 AND at < ?2")?,
                    count("SELECT count(*) FROM checks WHERE ?1 > 0 AND at >= ?2")?,
                ))
            })
            .expect("write");
        assert_eq!(
            left,
            (0, 49),
            "no old check left before the cut, every young one kept"
        );
    }
}
