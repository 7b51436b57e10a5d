//! Uptime maths over daily buckets: the bars on the page and the percentages under them.

use chrono::{DateTime, Days, NaiveDate, Utc};

/// Seconds in an hour and a day, for bucket keys (UTC, counted from the Unix epoch).
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The hourly bucket a moment falls in.
pub fn hour_key(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(HOUR)
}

/// The daily bucket (UTC day) a moment falls in.
pub fn day_key(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(DAY)
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

/// Checks counted for one monitor on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    pub day: NaiveDate,
    pub checks: u32,
    /// Up or degraded checks.
    pub successes: u32,
}

/// How a day looked, for the colour of its bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayLevel {
    NoData,
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
/// bucket are "no data".
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
            let level = match uptime {
                None => DayLevel::NoData,
                Some(p) if p >= GOOD_AT_LEAST => DayLevel::Good,
                Some(p) if p >= MINOR_AT_LEAST => DayLevel::Minor,
                Some(_) => DayLevel::Major,
            };
            DayBar { day, uptime, level }
        })
        .collect()
}

/// Uptime over the whole window, weighting each day by its checks.
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
            },
            DayCount {
                day: date(2026, 11, 26),
                checks: 100,
                successes: 50,
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
            },
            DayCount {
                day: date(2026, 1, 2),
                checks: 100,
                successes: 0,
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
        assert_eq!(day_key(at), date_key(d));
        assert_eq!(hour_key(at) / 24, date_key(d));
    }
}
