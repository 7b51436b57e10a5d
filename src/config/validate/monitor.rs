//! `[[monitor]]` tables → [`MonitorSpec`]s.

use std::collections::HashMap;
use std::time::Duration;

use toml::Spanned;
use url::Url;

use super::super::error::Collector;
use super::super::raw::RawMonitor;
use super::{at_least, duration, number, optional_duration, text};
use crate::domain::duration::format_duration;
use crate::domain::monitor::{
    HttpProbe, MonitorId, MonitorSpec, ProbeSpec, Schedule, StatusMatcher, Thresholds,
};

/// The shortest interval we accept; faster polling only hammers the owner's own sites.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Used when a monitor gives neither `interval` nor `cron`.
const DEFAULT_INTERVAL: &str = "60s";
/// The default timeout, shortened to half the interval for fast monitors.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn monitors(c: &mut Collector<'_>, raw: &[Spanned<RawMonitor>]) -> Vec<MonitorSpec> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (index, m) in raw.iter().enumerate() {
        let mut duplicate = false;
        if let Some(id) = &m.get_ref().id {
            if let Some(first) = seen.get(id.get_ref()) {
                c.at(Some(id.span()), format!(
                    "duplicate monitor id \"{}\" (monitor #{} already uses it); give every monitor its own id",
                    id.get_ref(), first + 1
                ));
                duplicate = true;
            } else {
                seen.insert(id.get_ref().clone(), index);
            }
        }
        if let Some(spec) = monitor(c, m).filter(|_| !duplicate) {
            out.push(spec);
        }
    }
    out
}

fn monitor(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>) -> Option<MonitorSpec> {
    let m = spanned.get_ref();
    let id = match &m.id {
        None => {
            c.at(
                Some(spanned.span()),
                "this [[monitor]] has no id; add e.g. id = \"blog\" (a-z, 0-9 and -)",
            );
            None
        }
        Some(id) => MonitorId::parse(id.get_ref())
            .map_err(|e| c.at(Some(id.span()), e))
            .ok(),
    };
    let (schedule, interval) = schedule(c, m);
    let default_timeout = interval.map_or(DEFAULT_TIMEOUT, |i| DEFAULT_TIMEOUT.min(i / 2));
    let timeout = m.timeout.as_ref().map_or(default_timeout, |_| {
        duration(c, &m.timeout, "timeout", "10s")
    });
    let timeout = at_least(
        c,
        &m.timeout,
        timeout,
        Duration::from_millis(100),
        "timeout",
        "100ms",
    );
    if let (Some(interval), Some(t)) = (interval, &m.timeout)
        && timeout >= interval
    {
        c.at(Some(t.span()), format!(
            "timeout {} is not shorter than interval {}; shorten the timeout or lengthen the interval",
            format_duration(timeout), format_duration(interval)
        ));
    }
    let degraded_after = optional_duration(c, &m.degraded_after, "degraded_after");
    if let (Some(d), Some(raw)) = (degraded_after, &m.degraded_after)
        && d >= timeout
    {
        c.at(Some(raw.span()), format!(
            "degraded_after {} is not shorter than timeout {}; a check that slow has already failed",
            format_duration(d), format_duration(timeout)
        ));
    }
    let thresholds = Thresholds {
        failures_before_down: number(
            c,
            &m.failures_before_down,
            "failures_before_down",
            3,
            1..=100,
        ) as u32,
        successes_before_up: number(c, &m.successes_before_up, "successes_before_up", 2, 1..=100)
            as u32,
    };
    let probe = probe(c, spanned)?;
    let id = id?;
    Some(MonitorSpec {
        name: text(&m.name).unwrap_or_else(|| id.to_string()),
        id,
        group: text(&m.group).filter(|g| !g.trim().is_empty()),
        schedule: schedule?,
        timeout,
        degraded_after,
        thresholds,
        probe,
    })
}

/// The schedule, and the interval when there is one (for timeout checks).
fn schedule(c: &mut Collector<'_>, m: &RawMonitor) -> (Option<Schedule>, Option<Duration>) {
    match (&m.interval, &m.cron) {
        (Some(_), Some(cron)) => {
            c.at(Some(cron.span()), "give either interval or cron, not both");
            (None, None)
        }
        (_, Some(cron)) => {
            let parsed = croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Required)
                .build()
                .parse(cron.get_ref());
            match parsed {
                Ok(_) => (Some(Schedule::Cron(cron.get_ref().clone())), None),
                Err(e) => {
                    c.at(Some(cron.span()), format!(
                        "cron \"{}\" is not a 6-field cron expression with seconds first (e.g. \"0 */5 * * * *\"): {e}",
                        cron.get_ref()
                    ));
                    (None, None)
                }
            }
        }
        (interval, None) => {
            let every = duration(c, interval, "interval", DEFAULT_INTERVAL);
            let every = at_least(c, interval, every, MIN_INTERVAL, "interval", "1s");
            (Some(Schedule::Every(every)), Some(every))
        }
    }
}

fn probe(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>) -> Option<ProbeSpec> {
    let m = spanned.get_ref();
    let kind = m.kind.as_ref().map_or("http", |k| k.get_ref().as_str());
    match kind {
        "http" => http(c, spanned).map(ProbeSpec::Http),
        other => {
            let span = m.kind.as_ref().map(Spanned::span);
            c.at(span, format!("kind \"{other}\" is not known; use \"http\""));
            None
        }
    }
}

fn http(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>) -> Option<HttpProbe> {
    let m = spanned.get_ref();
    let url = match &m.url {
        None => {
            c.at(
                Some(spanned.span()),
                "an http monitor needs url = \"https://…\"",
            );
            None
        }
        Some(u) => match Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            Ok(_) | Err(_) => {
                c.at(Some(u.span()), format!(
                    "url \"{}\" is not an absolute http:// or https:// URL; write e.g. \"https://example.com/\"",
                    u.get_ref()
                ));
                None
            }
        },
    };
    let expect_status = expect_status(c, m);
    let tls_expiry_warn = optional_duration(c, &m.tls_expiry_warn, "tls_expiry_warn");
    Some(HttpProbe {
        url: url?,
        expect_status,
        expect_body: text(&m.expect_body).filter(|k| !k.is_empty()),
        tls_expiry_warn,
    })
}

fn expect_status(c: &mut Collector<'_>, m: &RawMonitor) -> StatusMatcher {
    let Some(list) = &m.expect_status else {
        return StatusMatcher::SuccessOrRedirect;
    };
    let mut ranges = Vec::new();
    for item in list.get_ref() {
        match status_range(item.get_ref()) {
            Some(range) => ranges.push(range),
            None => c.at(Some(item.span()), format!(
                "expect_status entry {} is not a status code (100-599) or a range like \"200-299\"",
                item.get_ref()
            )),
        }
    }
    if ranges.is_empty() {
        if list.get_ref().is_empty() {
            c.at(
                Some(list.span()),
                "expect_status is empty; list codes like [200, 301] or remove it for any 2xx/3xx",
            );
        }
        return StatusMatcher::SuccessOrRedirect;
    }
    StatusMatcher::Ranges(ranges)
}

fn status_range(value: &toml::Value) -> Option<(u16, u16)> {
    let valid = |n: i64| u16::try_from(n).ok().filter(|n| (100..=599).contains(n));
    match value {
        toml::Value::Integer(n) => valid(*n).map(|n| (n, n)),
        toml::Value::String(s) => {
            let (lo, hi) = s.split_once('-')?;
            let lo = valid(lo.trim().parse().ok()?)?;
            let hi = valid(hi.trim().parse().ok()?)?;
            (lo <= hi).then_some((lo, hi))
        }
        _ => None,
    }
}
