//! Hourly and daily uptime buckets, bumped in the same transaction as each check: hours of
//! UTC, days of the page's time zone (the zone `uptime_zone` names), checks inside a
//! maintenance window of their monitor counted apart (SPEC §11).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono_tz::Tz;
use rusqlite::{Connection, params};

use super::incidents;
use crate::domain::check::CheckResult;
use crate::domain::uptime::{DayCount, day_date, day_key, hour_key, hour_start};

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

/// Adds one check to its hour and its day (of the zone the daily buckets are keyed in). A check
/// inside a maintenance window of the monitor counts neither up nor down, only as a check in
/// maintenance: every figure read from the buckets (bars, uptime) leaves it out.
pub fn record(conn: &Connection, monitor_row: i64, check: &CheckResult) -> rusqlite::Result<()> {
    let (hour, day) = (hour_key(check.at), day_key(check.at, day_zone(conn)?));
    if incidents::monitor_in_maintenance(conn, monitor_row, check.at)? {
        add_maintenance(conn, Table::Hourly, monitor_row, hour)?;
        return add_maintenance(conn, Table::Daily, monitor_row, day);
    }
    let delta = BucketDelta::of(check);
    add(conn, Table::Hourly, monitor_row, hour, delta)?;
    add(conn, Table::Daily, monitor_row, day, delta)
}

/// The zone the daily buckets are keyed in: `[page] timezone` once [`key_days_in`] ran.
pub fn day_zone(conn: &Connection) -> rusqlite::Result<Tz> {
    let name: String = conn
        .prepare_cached("SELECT timezone FROM uptime_zone WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    // Only names that parsed in the config are stored.
    Ok(name.parse().unwrap_or(Tz::UTC))
}

/// Keys the daily buckets by the days of `zone` (the page's, at start and on a reload). When the
/// zone changed, the days the hourly buckets still cover (90 days) are rebuilt from them, each
/// hour counted on the day of `zone` it starts in (in a zone half an hour off UTC, the hour
/// across midnight goes to the day it starts in); older days keep the days of the zone they
/// were counted in. Returns whether anything changed.
pub fn key_days_in(conn: &Connection, zone: Tz) -> rusqlite::Result<bool> {
    if day_zone(conn)? == zone {
        return Ok(false);
    }
    let first_hour: Option<i64> =
        conn.query_row("SELECT min(hour) FROM uptime_hourly", [], |r| r.get(0))?;
    if let Some(first_hour) = first_hour {
        let first = day_key(hour_start(first_hour), zone);
        // Daily buckets older than the hours kept (a day apart for the change of zone): the
        // retention has cut the hours of the first day, which is kept as it was counted.
        let truncated: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM uptime_daily WHERE day < ?1)",
            [first - 1],
            |r| r.get(0),
        )?;
        let first_day = if truncated { first + 1 } else { i64::MIN };
        conn.execute("DELETE FROM uptime_daily WHERE day >= ?1", [first_day])?;
        rebuild_days(conn, zone, first_day)?;
    }
    conn.execute(
        "UPDATE uptime_zone SET timezone = ?1 WHERE id = 1",
        [zone.name()],
    )?;
    Ok(true)
}

/// One day of one monitor, summed from its hours.
#[derive(Default)]
struct DaySum {
    delta: Option<BucketDelta>,
    maintenance: i64,
}

/// Writes the daily buckets from `first_day` on from the hourly ones, one monitor at a time in
/// the hourly table's own order: memory stays one day whatever the history.
fn rebuild_days(conn: &Connection, zone: Tz, first_day: i64) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT monitor_id, hour, checks, successes, response_sum_ms, response_min_ms,
                response_max_ms, maintenance
         FROM uptime_hourly ORDER BY monitor_id, hour",
    )?;
    let mut rows = stmt.query([])?;
    let mut current: Option<(i64, i64)> = None;
    let mut sum = DaySum::default();
    while let Some(r) = rows.next()? {
        let (monitor, hour): (i64, i64) = (r.get(0)?, r.get(1)?);
        let day = day_key(hour_start(hour), zone);
        if day < first_day {
            continue;
        }
        if current != Some((monitor, day)) {
            if let Some((m, d)) = current {
                write_day(conn, m, d, &std::mem::take(&mut sum))?;
            }
            current = Some((monitor, day));
        }
        let hour_delta = BucketDelta {
            checks: r.get(2)?,
            successes: r.get(3)?,
            response_sum_ms: r.get(4)?,
            response_min_ms: r.get(5)?,
            response_max_ms: r.get(6)?,
        };
        sum.maintenance += r.get::<_, i64>(7)?;
        if hour_delta.checks > 0 {
            sum.delta = Some(match sum.delta {
                None => hour_delta,
                Some(d) => BucketDelta {
                    checks: d.checks + hour_delta.checks,
                    successes: d.successes + hour_delta.successes,
                    response_sum_ms: d.response_sum_ms + hour_delta.response_sum_ms,
                    response_min_ms: d.response_min_ms.min(hour_delta.response_min_ms),
                    response_max_ms: d.response_max_ms.max(hour_delta.response_max_ms),
                },
            });
        }
    }
    if let Some((m, d)) = current {
        write_day(conn, m, d, &sum)?;
    }
    Ok(())
}

fn write_day(conn: &Connection, monitor_row: i64, day: i64, sum: &DaySum) -> rusqlite::Result<()> {
    if let Some(delta) = sum.delta {
        add(conn, Table::Daily, monitor_row, day, delta)?;
    }
    if sum.maintenance > 0 {
        conn.prepare_cached(&MAINTENANCE_UPSERT[1])?
            .execute(params![monitor_row, day, sum.maintenance])?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Table {
    Hourly,
    Daily,
}

static HOURLY_UPSERT: LazyLock<String> = LazyLock::new(|| upsert("uptime_hourly", "hour"));
static DAILY_UPSERT: LazyLock<String> = LazyLock::new(|| upsert("uptime_daily", "day"));

/// Adds a bucket's totals, or creates the bucket. A bucket made by checks in maintenance only
/// has no response times yet (`checks` 0): the first counted check sets them.
fn upsert(table: &str, key: &str) -> String {
    format!(
        "INSERT INTO {table} (monitor_id, {key}, checks, successes, response_sum_ms, response_min_ms, response_max_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (monitor_id, {key}) DO UPDATE SET
             checks = checks + excluded.checks, successes = successes + excluded.successes,
             response_sum_ms = response_sum_ms + excluded.response_sum_ms,
             response_min_ms = CASE WHEN checks = 0 THEN excluded.response_min_ms
                                    ELSE min(response_min_ms, excluded.response_min_ms) END,
             response_max_ms = CASE WHEN checks = 0 THEN excluded.response_max_ms
                                    ELSE max(response_max_ms, excluded.response_max_ms) END"
    )
}

/// Adds `?3` checks in maintenance to a bucket (hourly, daily), or creates it with no counted
/// check.
static MAINTENANCE_UPSERT: LazyLock<[String; 2]> = LazyLock::new(|| {
    [("uptime_hourly", "hour"), ("uptime_daily", "day")].map(|(table, key)| {
        format!(
            "INSERT INTO {table} (monitor_id, {key}, checks, successes, response_sum_ms,
                                  response_min_ms, response_max_ms, maintenance)
             VALUES (?1, ?2, 0, 0, 0, 0, 0, ?3)
             ON CONFLICT (monitor_id, {key}) DO UPDATE SET
                 maintenance = maintenance + excluded.maintenance"
        )
    })
});

/// Counts one check inside a maintenance window in a bucket: neither up nor down.
pub fn add_maintenance(
    conn: &Connection,
    table: Table,
    monitor_row: i64,
    key: i64,
) -> rusqlite::Result<()> {
    let sql = match table {
        Table::Hourly => &MAINTENANCE_UPSERT[0],
        Table::Daily => &MAINTENANCE_UPSERT[1],
    };
    conn.prepare_cached(sql)?
        .execute(params![monitor_row, key, 1])?;
    Ok(())
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
        "SELECT monitor_id, day, checks, successes, maintenance FROM uptime_daily
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
            maintenance: r.get(4)?,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::uptime::date_key;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("memory db");
        crate::db::migrations::migrate(&mut conn).expect("migrate");
        conn.execute(
            "INSERT INTO monitors (id, key, name, kind, target, position, created_at, updated_at)
             VALUES (1, 'blog', 'Blog', 'http', 'https://blog.example/', 0, 0, 0)",
            [],
        )
        .expect("monitor");
        conn
    }

    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&chrono::Utc)
    }

    fn day(conn: &Connection, date: &str) -> Option<(i64, i64, i64)> {
        let key = date_key(date.parse().expect("date"));
        conn.query_row(
            "SELECT checks, successes, maintenance FROM uptime_daily WHERE monitor_id = 1 AND day = ?1",
            [key],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok()
    }

    fn check(conn: &Connection, when: &str, up: bool) {
        let at = at(when);
        let result = if up {
            CheckResult::up(at, std::time::Duration::from_millis(30))
        } else {
            CheckResult::down(at, std::time::Duration::from_millis(30), "HTTP 503")
        };
        record(conn, 1, &result).expect("record");
    }

    #[test]
    fn a_change_of_zone_re_keys_the_days_from_the_hours() {
        let conn = db();
        check(&conn, "2026-12-07T23:30:00Z", false);
        check(&conn, "2026-12-07T12:00:00Z", true);
        assert_eq!(
            day(&conn, "2026-12-07"),
            Some((2, 1, 0)),
            "UTC days at first"
        );
        let berlin = chrono_tz::Europe::Berlin;
        assert!(key_days_in(&conn, berlin).expect("re-key"));
        assert_eq!(day(&conn, "2026-12-07"), Some((1, 1, 0)));
        assert_eq!(
            day(&conn, "2026-12-08"),
            Some((1, 0, 0)),
            "23:30 UTC is 00:30 CET"
        );
        assert!(
            !key_days_in(&conn, berlin).expect("same zone"),
            "nothing to do"
        );
        check(&conn, "2026-12-08T22:59:00Z", true);
        assert_eq!(
            day(&conn, "2026-12-08"),
            Some((2, 1, 0)),
            "recorded in Berlin days"
        );
        assert!(key_days_in(&conn, chrono_tz::UTC).expect("back"));
        assert_eq!(day(&conn, "2026-12-07"), Some((2, 1, 0)));
        assert_eq!(day(&conn, "2026-12-08"), Some((1, 1, 0)));
    }

    #[test]
    fn days_older_than_the_hours_kept_stay_as_they_were_counted() {
        let conn = db();
        check(&conn, "2026-08-01T23:30:00Z", true);
        check(&conn, "2026-12-07T23:30:00Z", false);
        // Retention took every hour before December.
        delete_hours_before(&conn, hour_key(at("2026-12-01T00:00:00Z"))).expect("retention");
        assert!(key_days_in(&conn, chrono_tz::Europe::Berlin).expect("re-key"));
        assert_eq!(day(&conn, "2026-08-01"), Some((1, 1, 0)), "kept");
        assert_eq!(day(&conn, "2026-08-02"), None);
        assert_eq!(
            day(&conn, "2026-12-07"),
            Some((1, 0, 0)),
            "the first day kept as it was"
        );
    }

    #[test]
    fn checks_in_a_maintenance_window_count_apart() {
        let conn = db();
        let from = at("2026-12-07T10:00:00Z").timestamp_millis();
        let until = at("2026-12-07T11:00:00Z").timestamp_millis();
        conn.execute(
            "INSERT INTO incidents (id, kind, name, status, impact, created_at, updated_at, started_at,
                                    scheduled_for, scheduled_until)
             VALUES (1, 'maintenance', 'Work', 'in_progress', 'maintenance', 0, 0, ?1, ?1, ?2)",
            [from, until],
        )
        .expect("maintenance");
        conn.execute(
            "INSERT INTO incident_components (incident_id, monitor_id, status)
             VALUES (1, 1, 'under_maintenance')",
            [],
        )
        .expect("component");
        check(&conn, "2026-12-07T10:30:00Z", false);
        check(&conn, "2026-12-07T11:00:00Z", true);
        assert_eq!(day(&conn, "2026-12-07"), Some((1, 1, 1)));
        let (min, max): (i64, i64) = conn
            .query_row(
                "SELECT response_min_ms, response_max_ms FROM uptime_daily WHERE monitor_id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("times");
        assert_eq!((min, max), (30, 30), "set by the first counted check");
    }
}
