//! Shared by the render benchmark and the history generator: a config of N monitors and
//! their history, written through signalfire's own storage functions.

#![allow(dead_code)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use signalfire::db::Db;
use signalfire::db::uptime::{self, BucketDelta, Table};
use signalfire::domain::check::CheckResult;
use signalfire::domain::uptime::{day_key, hour_key};
use signalfire::monitoring::{self, Monitor};
use signalfire::writer::Writer;

/// A config of `n` http monitors in groups of ten, each on its own path of `target`.
pub fn config_text(n: usize, data_dir: &str, listen: &str, target: &str, interval: &str) -> String {
    let mut text = format!(
        "[server]\nlisten = \"{listen}\"\ndata_dir = \"{data_dir}\"\nmax_concurrent_checks = 64\n\n\
         [page]\ntitle = \"Benchmark status\"\ndescription = \"{n} monitors\"\n\n"
    );
    for i in 0..n {
        text.push_str(&format!(
            "[[monitor]]\nid = \"m{i}\"\nname = \"Site {i}\"\ngroup = \"Group {}\"\nurl = \"{target}/m/{i}\"\ninterval = \"{interval}\"\ntimeout = \"10s\"\n\n",
            i / 10
        ));
    }
    text
}

/// A small deterministic generator, so every run writes the same history.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Failed checks out of `checks`: mostly none, sometimes a short outage.
    pub fn failures(&mut self, checks: i64) -> i64 {
        match self.next() % 100 {
            0 => checks / 2,
            1..=3 => (self.next() % 5) as i64,
            _ => 0,
        }
    }
}

/// Hourly and daily buckets for the hours from `from` (inclusive) to `until` (exclusive), as
/// if a check ran every `interval`; one transaction per day.
pub fn seed_buckets(
    db: &Db,
    rows: &[i64],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    interval: Duration,
    rng: &mut Rng,
) {
    let per_hour = (3_600 / interval.as_secs().max(1)) as i64;
    let mut hour = from;
    while hour < until {
        let day_end = (hour + chrono::Duration::days(1)).min(until);
        let mut deltas = Vec::new();
        while hour < day_end {
            for row in rows {
                let failed = rng.failures(per_hour).min(per_hour);
                deltas.push((
                    *row,
                    hour,
                    BucketDelta {
                        checks: per_hour,
                        successes: per_hour - failed,
                        response_sum_ms: per_hour * 120,
                        response_min_ms: 40,
                        response_max_ms: 900,
                    },
                ));
            }
            hour += chrono::Duration::hours(1);
        }
        db.write_blocking(|tx| {
            for (row, at, delta) in &deltas {
                uptime::add(tx, Table::Hourly, *row, hour_key(*at), *delta)?;
                uptime::add(tx, Table::Daily, *row, day_key(*at, chrono_tz::UTC), *delta)?;
            }
            Ok(())
        })
        .expect("seed buckets");
    }
}

/// Raw checks every `interval` from `from` to `until`, through the live recording path
/// (check row, buckets, state machine, incident policy) on the writer; one job per hour.
pub fn seed_checks(
    runtime: &tokio::runtime::Runtime,
    writer: &Writer,
    handles: &[std::sync::Arc<Monitor>],
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    interval: Duration,
    rng: &mut Rng,
) -> u64 {
    let step = chrono::Duration::from_std(interval).expect("interval");
    let mut at = from;
    let mut written = 0;
    while at < until {
        let hour_end = (at + chrono::Duration::hours(1)).min(until);
        let mut results = Vec::new();
        while at < hour_end {
            for handle in handles {
                let ms = 40 + rng.next() % 200;
                let result = if rng.next().is_multiple_of(500) {
                    CheckResult::down(
                        at,
                        Duration::from_millis(ms),
                        "HTTP 503 Service Unavailable",
                    )
                } else {
                    CheckResult::up(at, Duration::from_millis(ms))
                };
                results.push((handle.clone(), result));
            }
            at += step;
        }
        written += results.len() as u64;
        runtime
            .block_on(writer.run(move |tx| {
                for (handle, result) in &results {
                    monitoring::record(tx, handle, result)?;
                }
                Ok(())
            }))
            .expect("seed checks");
    }
    written
}
