//! `[[monitor]]` tables → [`MonitorSpec`]s.

use std::collections::HashMap;
use std::time::Duration;

use toml::Spanned;

use super::super::error::Collector;
use super::super::raw::{DNS_KEYS, HEARTBEAT_KEYS, HTTP_KEYS, RawMonitor, TCP_KEYS};
use super::{at_least, duration, number, optional_duration, probes, text};
use crate::domain::duration::format_duration;
use crate::domain::monitor::{MonitorId, MonitorSpec, ProbeSpec, Schedule, Thresholds};

/// The shortest interval we accept; faster polling only hammers the owner's own sites.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Used when a monitor gives neither `interval` nor `cron`.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// The default timeout, shortened to half the interval for fast monitors.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Heartbeats are evaluated this often at most (and at least every quarter of their grace).
const HEARTBEAT_EVALUATION: Duration = Duration::from_secs(60);

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

/// The keys a kind accepts besides the common ones.
fn kind_keys(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "http" => Some(HTTP_KEYS),
        "tcp" => Some(TCP_KEYS),
        "dns" => Some(DNS_KEYS),
        "heartbeat" => Some(HEARTBEAT_KEYS),
        _ => None,
    }
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
    let kind = m.kind.as_ref().map_or("http", |k| k.get_ref().as_str());
    let Some(allowed) = kind_keys(kind) else {
        let span = m.kind.as_ref().map(Spanned::span);
        c.at(
            span,
            format!(
                "kind \"{kind}\" is not known; use \"http\", \"tcp\", \"dns\" or \"heartbeat\""
            ),
        );
        return None;
    };
    for (key, span) in m.kind_keys() {
        if !allowed.contains(&key) {
            c.at(Some(span), format!("{key} does not apply to a {kind} monitor; remove it (a {kind} monitor takes {})", allowed.join(", ")));
        }
    }
    let probe = match kind {
        "tcp" => probes::tcp(c, spanned).map(ProbeSpec::Tcp),
        "dns" => probes::dns(c, spanned).map(ProbeSpec::Dns),
        "heartbeat" => probes::heartbeat(c, spanned).map(ProbeSpec::Heartbeat),
        _ => probes::http(c, spanned).map(|h| ProbeSpec::Http(Box::new(h))),
    };
    let default_interval = match &probe {
        Some(ProbeSpec::Heartbeat(hb)) => (hb.grace / 4).clamp(MIN_INTERVAL, HEARTBEAT_EVALUATION),
        _ => DEFAULT_INTERVAL,
    };
    let (schedule, interval) = schedule(c, m, default_interval);
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
    // A missed heartbeat deadline is already confirmed; one is enough.
    let default_threshold = if kind == "heartbeat" { (1, 1) } else { (3, 2) };
    let thresholds = Thresholds {
        failures_before_down: number(
            c,
            &m.failures_before_down,
            "failures_before_down",
            default_threshold.0,
            1..=100,
        ) as u32,
        successes_before_up: number(
            c,
            &m.successes_before_up,
            "successes_before_up",
            default_threshold.1,
            1..=100,
        ) as u32,
    };
    let id = id?;
    Some(MonitorSpec {
        name: text(&m.name).unwrap_or_else(|| id.to_string()),
        id,
        group: text(&m.group).filter(|g| !g.trim().is_empty()),
        schedule: schedule?,
        timeout,
        degraded_after,
        thresholds,
        probe: probe?,
    })
}

/// The schedule, and the interval when there is one (for timeout checks).
fn schedule(
    c: &mut Collector<'_>,
    m: &RawMonitor,
    default_interval: Duration,
) -> (Option<Schedule>, Option<Duration>) {
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
            let every = match interval {
                None => default_interval,
                Some(_) => duration(c, interval, "interval", "60s"),
            };
            let every = at_least(c, interval, every, MIN_INTERVAL, "interval", "1s");
            (Some(Schedule::Every(every)), Some(every))
        }
    }
}
