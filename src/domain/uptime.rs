//! Uptime maths over daily buckets: the bars on the page and the percentages under them.
//!
//! Hourly buckets are UTC hours; daily buckets are days of the page's time zone (SPEC §11), keyed
//! by the days from 1970-01-01 to that local date. Checks inside a maintenance window of their
//! monitor count neither up nor down: buckets count them apart (`maintenance`).

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

/// Seconds in an hour and a day, for bucket keys (counted from the Unix epoch).
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The hourly bucket a moment falls in.
pub fn hour_key(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(HOUR)
}

/// The daily bucket a moment falls in: its date in `zone` (DST-aware: a local day may have 23
/// or 25 hours).
pub fn day_key(at: DateTime<Utc>, zone: Tz) -> i64 {
    date_key(at.with_timezone(&zone).date_naive())
}

/// When `date` begins in `zone`: its local midnight, or the first moment after a gap when a
/// change of offset skips midnight.
pub fn day_start(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    use chrono::TimeZone;
    (0..3)
        .find_map(|hour| {
            let local = date.and_hms_opt(hour, 0, 0)?;
            zone.from_local_datetime(&local).earliest()
        })
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or_else(|| date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// The start of an hourly bucket.
pub fn hour_start(key: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(key.saturating_mul(HOUR), 0).unwrap_or_default()
}

/// The date of a daily bucket key.
pub fn day_date(key: i64) -> NaiveDate {
    DateTime::from_timestamp(key * DAY, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

/// The daily bucket key of a date.
pub fn date_key(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp().div_euclid(DAY))
        .unwrap_or_default()
}

/// Checks counted for one monitor on one day of the page's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub day: NaiveDate,
    /// Checks that count: outside maintenance windows.
    pub checks: u32,
    /// Up or degraded checks among them.
    pub successes: u32,
    /// Checks inside a maintenance window of the monitor, counted neither up nor down.
    pub maintenance: u32,
}

/// How a day looked, for the colour of its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayLevel {
    NoData,
    /// Every check of the day was inside a maintenance window: no uptime figure, shown as
    /// maintenance (not as an outage, nor as an unchecked day).
    Maintenance,
    /// At least 99.9 % of checks succeeded.
    Good,
    /// At least 99 %.
    Minor,
    /// Less than 99 %.
    Major,
}

/// One bar on the page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayBar {
    pub day: NaiveDate,
    /// Percentage of successful checks, `None` when there were none.
    pub uptime: Option<f64>,
    pub level: DayLevel,
}

/// Thresholds for the bar colours, in percent.
const GOOD_AT_LEAST: f64 = 99.9;
const MINOR_AT_LEAST: f64 = 99.0;

fn percent(successes: u64, checks: u64) -> Option<f64> {
    (checks > 0).then(|| successes as f64 * 100.0 / checks as f64)
}

/// One bar per day for the `days` days ending with `today`, oldest first; days without a
/// bucket are "no data", days with only checks in maintenance are "maintenance".
pub fn day_bars(today: NaiveDate, days: u32, counts: &[DayCount]) -> Vec<DayBar> {
    let first = today
        .checked_sub_days(Days::new(days.saturating_sub(1).into()))
        .unwrap_or(today);
    let mut by_day: Vec<Option<&DayCount>> = vec![None; days as usize];
    for c in counts {
        let index = (c.day - first).num_days();
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| by_day.get_mut(i)) {
            *slot = Some(c);
        }
    }
    by_day
        .into_iter()
        .zip(first.iter_days())
        .map(|(count, day)| {
            let uptime = count.and_then(|c| percent(c.successes.into(), c.checks.into()));
            let in_maintenance = count.is_some_and(|c| c.maintenance > 0);
            let level = match uptime {
                None if in_maintenance => DayLevel::Maintenance,
                None => DayLevel::NoData,
                Some(p) if p >= GOOD_AT_LEAST => DayLevel::Good,
                Some(p) if p >= MINOR_AT_LEAST => DayLevel::Minor,
                Some(_) => DayLevel::Major,
            };
            DayBar { day, uptime, level }
        })
        .collect()
}

/// Uptime over the whole window, weighting each day by its checks (those in maintenance do not
/// count).
pub fn overall_uptime(counts: &[DayCount]) -> Option<f64> {
    let checks: u64 = counts.iter().map(|c| u64::from(c.checks)).sum();
    let successes: u64 = counts.iter().map(|c| u64::from(c.successes)).sum();
    percent(successes, checks)
}

/// A percentage for people: "100%", "99.95%", "87.3%"; never rounds a bad day up to 100.
pub fn format_percent(p: f64) -> String {
    let mut out = String::with_capacity(8);
    push_percent(&mut out, p);
    out
}

/// [`format_percent`] appended to `out`, with integer arithmetic and no allocation: the page
/// writes one per bar, 45,000 for 500 monitors. Rounded to the hundredth, halves away from
/// zero (98.125 is 98.13).
pub fn push_percent(out: &mut String, p: f64) {
    if p >= 100.0 {
        out.push_str("100%");
        return;
    }
    // Under 100 never rounds up to 100: 99.999 is 99.99.
    let hundredths = (p * 100.0).round().clamp(0.0, 9_999.0) as u32;
    let (whole, fraction) = (hundredths / 100, hundredths % 100);
    let digit = |d: u32| char::from(b'0' + (d % 10) as u8);
    if whole >= 10 {
        out.push(digit(whole / 10));
    }
    out.push(digit(whole));
    if fraction != 0 {
        out.push('.');
        out.push(digit(fraction / 10));
        if fraction % 10 != 0 {
            out.push(digit(fraction));
        }
    }
    out.push('%');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn bars_cover_the_window_oldest_first_with_gaps_as_no_data() {
        let today = date(2026, 11, 28);
        let counts = [
            DayCount {
                day: date(2026, 11, 28),
                checks: 100,
                successes: 100,
                maintenance: 0,
            },
            DayCount {
                day: date(2026, 11, 26),
                checks: 100,
                successes: 50,
                maintenance: 0,
            },
        ];
        let bars = day_bars(today, 3, &counts);
        assert_eq!(bars.len(), 3);
        assert_eq!(bars[0].day, date(2026, 11, 26));
        assert_eq!(bars[0].level, DayLevel::Major);
        assert_eq!(bars[1].level, DayLevel::NoData);
        assert_eq!(bars[2].uptime, Some(100.0));
        assert_eq!(bars[2].level, DayLevel::Good);
    }

    #[test]
    fn overall_uptime_weights_by_checks() {
        let counts = [
            DayCount {
                day: date(2026, 1, 1),
                checks: 300,
                successes: 300,
                maintenance: 0,
            },
            DayCount {
                day: date(2026, 1, 2),
                checks: 100,
                successes: 0,
                maintenance: 0,
            },
        ];
        assert_eq!(overall_uptime(&counts), Some(75.0));
        assert_eq!(overall_uptime(&[]), None);
    }

    #[test]
    fn percentages_never_round_up_to_100() {
        assert_eq!(format_percent(100.0), "100%");
        assert_eq!(format_percent(99.999), "99.99%");
        assert_eq!(format_percent(99.5), "99.5%");
        assert_eq!(format_percent(87.25), "87.25%");
        assert_eq!(format_percent(99.0), "99%");
        assert_eq!(format_percent(99.05), "99.05%");
        assert_eq!(format_percent(9.1), "9.1%");
        assert_eq!(format_percent(0.0), "0%");
        assert_eq!(format_percent(0.004), "0%");
        assert_eq!(format_percent(99.994), "99.99%");
        assert_eq!(format_percent(98.125), "98.13%");
        assert_eq!(format_percent(1413.0 * 100.0 / 1440.0), "98.13%");
    }

    #[test]
    fn day_keys_round_trip_through_dates() {
        let d = date(2026, 11, 28);
        assert_eq!(day_date(date_key(d)), d);
        let at = d.and_hms_opt(23, 59, 59).expect("time").and_utc();
        assert_eq!(day_key(at, chrono_tz::UTC), date_key(d));
        assert_eq!(hour_key(at) / 24, date_key(d));
        assert_eq!(
            hour_start(hour_key(at)),
            at - chrono::Duration::seconds(3_599)
        );
    }

    #[test]
    fn days_are_days_of_the_zone_across_a_change_of_offset() {
        let berlin = chrono_tz::Europe::Berlin;
        let at = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .expect("time")
                .with_timezone(&Utc)
        };
        // 23:30 UTC is the next day in Berlin, in winter (+1) and in summer (+2).
        assert_eq!(
            day_key(at("2026-12-07T23:30:00Z"), berlin),
            date_key(date(2026, 12, 8))
        );
        assert_eq!(
            day_key(at("2026-12-07T22:59:59Z"), berlin),
            date_key(date(2026, 12, 7))
        );
        // 29 March 2026 has 23 hours there: from 23:00 UTC the day before to 22:00 UTC.
        assert_eq!(
            day_key(at("2026-03-28T23:00:00Z"), berlin),
            date_key(date(2026, 3, 29))
        );
        assert_eq!(
            day_key(at("2026-03-29T21:59:59Z"), berlin),
            date_key(date(2026, 3, 29))
        );
        assert_eq!(
            day_key(at("2026-03-29T22:00:00Z"), berlin),
            date_key(date(2026, 3, 30))
        );
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            day_start(date(2026, 12, 8), berlin).to_rfc3339(),
            "2026-12-07T23:00:00+00:00"
        );
        assert_eq!(
            day_start(date(2026, 7, 8), berlin).to_rfc3339(),
            "2026-07-07T22:00:00+00:00"
        );
        // Santiago skips from 24:00 to 01:00 on 6 September 2026.
        let santiago = chrono_tz::America::Santiago;
        assert_eq!(
            day_start(date(2026, 9, 6), santiago).to_rfc3339(),
            "2026-09-06T04:00:00+00:00"
        );
    }

    #[test]
    fn a_day_spent_in_maintenance_is_shown_as_maintenance_and_counts_nothing() {
        let today = date(2026, 11, 28);
        let counts = [
            DayCount {
                day: date(2026, 11, 27),
                checks: 0,
                successes: 0,
                maintenance: 40,
            },
            DayCount {
                day: date(2026, 11, 28),
                checks: 10,
                successes: 10,
                maintenance: 5,
            },
        ];
        let bars = day_bars(today, 2, &counts);
        assert_eq!(bars[0].level, DayLevel::Maintenance);
        assert_eq!(bars[0].uptime, None);
        assert_eq!(bars[1].level, DayLevel::Good);
        assert_eq!(overall_uptime(&counts), Some(100.0));
    }
}
