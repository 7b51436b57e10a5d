//! Hourly and daily uptime buckets, bumped in the same transaction as each check.

use std::collections::HashMap;
use std::sync::LazyLock;

use rusqlite::{Connection, params};

use crate::domain::check::CheckResult;
use crate::domain::uptime::{DayCount, day_date, day_key, hour_key};

/// Totals to add to a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketDelta {
    pub checks: i64,
    pub successes: i64,
    pub response_sum_ms: i64,
    pub response_min_ms: i64,
    pub response_max_ms: i64,
}

impl BucketDelta {
    pub fn of(check: &CheckResult) -> Self {
        let ms = check.elapsed.as_millis() as i64;
        Self {
            checks: 1,
            successes: i64::from(check.verdict.is_success()),
            response_sum_ms: ms,
            response_min_ms: ms,
            response_max_ms: ms,
        }
    }
}

/// Adds one check to its hour and day.
pub fn record(conn: &Connection, monitor_row: i64, check: &CheckResult) -> rusqlite::Result<()> {
    let delta = BucketDelta::of(check);
    add(conn, Table::Hourly, monitor_row, hour_key(check.at), delta)?;
    add(conn, Table::Daily, monitor_row, day_key(check.at), delta)
}

#[derive(Debug, Clone, Copy)]
pub enum Table {
    Hourly,
    Daily,
}

static HOURLY_UPSERT: LazyLock<String> = LazyLock::new(|| upsert("uptime_hourly", "hour"));
static DAILY_UPSERT: LazyLock<String> = LazyLock::new(|| upsert("uptime_daily", "day"));

/// Adds a bucket's totals, or creates the bucket.
fn upsert(table: &str, key: &str) -> String {
    format!(
        "INSERT INTO {table} (monitor_id, {key}, checks, successes, response_sum_ms, response_min_ms, response_max_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (monitor_id, {key}) DO UPDATE SET
             checks = checks + excluded.checks, successes = successes + excluded.successes,
             response_sum_ms = response_sum_ms + excluded.response_sum_ms,
             response_min_ms = min(response_min_ms, excluded.response_min_ms),
             response_max_ms = max(response_max_ms, excluded.response_max_ms)"
    )
}

/// Adds totals to one bucket (used by [`record`] and by history generators).
pub fn add(
    conn: &Connection,
    table: Table,
    monitor_row: i64,
    key: i64,
    d: BucketDelta,
) -> rusqlite::Result<()> {
    let sql: &str = match table {
        Table::Hourly => &HOURLY_UPSERT,
        Table::Daily => &DAILY_UPSERT,
    };
    conn.prepare_cached(sql)?.execute(params![
        monitor_row,
        key,
        d.checks,
        d.successes,
        d.response_sum_ms,
        d.response_min_ms,
        d.response_max_ms
    ])?;
    Ok(())
}

/// Every monitor's daily counts from `first_day` through `last_day`, by monitor row, oldest
/// first. One range scan of the window: its cost does not grow with the length of history.
pub fn daily_window(
    conn: &Connection,
    first_day: i64,
    last_day: i64,
) -> rusqlite::Result<HashMap<i64, Vec<DayCount>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT monitor_id, day, checks, successes FROM uptime_daily
         WHERE day BETWEEN ?1 AND ?2 ORDER BY day",
    )?;
    let mut rows = stmt.query([first_day, last_day])?;
    let mut out: HashMap<i64, Vec<DayCount>> = HashMap::new();
    let mut dates: HashMap<i64, chrono::NaiveDate> = HashMap::new();
    while let Some(r) = rows.next()? {
        let day: i64 = r.get(1)?;
        let date = *dates.entry(day).or_insert_with(|| day_date(day));
        out.entry(r.get(0)?).or_default().push(DayCount {
            day: date,
            checks: r.get(2)?,
            successes: r.get(3)?,
        });
    }
    Ok(out)
}

/// Deletes hourly buckets older than `first_hour_kept`; daily buckets are kept forever.
pub fn delete_hours_before(conn: &Connection, first_hour_kept: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM uptime_hourly WHERE hour < ?1",
        [first_hour_kept],
    )
}
