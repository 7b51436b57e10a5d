//! `[[monitor]]` tables → [`MonitorSpec`]s: the common keys here, the kind's own keys by the
//! kind (`probe::KINDS`, or `heartbeat`).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::super::raw::{MONITOR_KEYS, RawMonitor};
use super::super::{MonitorSpec, Watch};
use super::heartbeat;
use crate::domain::duration::format_duration;
use crate::domain::monitor::{MonitorId, Schedule, Thresholds};
use crate::keys::{
    Collector, MonitorTable, at_least, did_you_mean, duration, number, optional_duration, text,
};
use crate::probe;

/// The kind a monitor is when it says none.
const DEFAULT_KIND: &str = "http";
/// The kind that is fed by pings rather than probed.
const HEARTBEAT: &str = "heartbeat";

/// The shortest interval we accept; faster polling only hammers the owner's own sites.
const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Used when a monitor gives neither `interval` nor `cron`.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// The default timeout, shortened to half the interval for fast monitors.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Heartbeats are evaluated this often at most (and at least every quarter of their grace).
const HEARTBEAT_EVALUATION: Duration = Duration::from_secs(60);

pub fn monitors(
    c: &mut Collector<'_>,
    raw: &[Spanned<RawMonitor>],
    root: &DeTable<'_>,
    dir: &Path,
    timezone: chrono_tz::Tz,
) -> Vec<MonitorSpec> {
    let tables = monitor_tables(root);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut tokens: HashMap<[u8; 32], String> = HashMap::new();
    let mut out = Vec::new();
    for (index, m) in raw.iter().enumerate() {
        let Some(table) = tables.get(index) else {
            continue;
        };
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
        let table = MonitorTable::new(table.clone(), dir);
        if let Some(spec) = monitor(c, m, &table, timezone).filter(|_| !duplicate)
            && unique_token(c, &mut tokens, &spec, table.table())
        {
            out.push(spec);
        }
    }
    out
}

/// Two heartbeats with one token would share one ping URL, and only one ever gets the pings:
/// the second is reported at its token, naming the first.
fn unique_token(
    c: &mut Collector<'_>,
    tokens: &mut HashMap<[u8; 32], String>,
    spec: &MonitorSpec,
    table: &DeTable<'_>,
) -> bool {
    let Watch::Heartbeat(job) = &spec.watch else {
        return true;
    };
    let Some(first) = tokens.get(&job.token_sha256) else {
        tokens.insert(job.token_sha256, spec.id.to_string());
        return true;
    };
    let (key, span) = table
        .iter()
        .find(|(k, _)| matches!(k.get_ref().as_ref(), "token" | "token_sha256"))
        .map_or(("token", None), |(k, v)| {
            (
                if k.get_ref() == "token" {
                    "token"
                } else {
                    "token_sha256"
                },
                Some(v.span()),
            )
        });
    c.at(span, format!(
        "{key} is already the token of heartbeat \"{first}\"; give every heartbeat its own token (one ping URL is one job's)"
    ));
    false
}

/// Every `[[monitor]]` table as written, in order.
fn monitor_tables<'a>(root: &DeTable<'a>) -> Vec<Spanned<DeTable<'a>>> {
    let Some((_, value)) = root.iter().find(|(k, _)| k.get_ref() == "monitor") else {
        return Vec::new();
    };
    let DeValue::Array(list) = value.get_ref() else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|item| match item.get_ref() {
            DeValue::Table(t) => Some(Spanned::new(item.span(), t.clone())),
            _ => None,
        })
        .collect()
}

/// The keys a kind takes besides the common ones; `None` for an unknown kind.
fn kind_keys(kind: &str) -> Option<&'static [&'static str]> {
    if kind == HEARTBEAT {
        return Some(heartbeat::KEYS);
    }
    probe::kind(kind).map(|k| k.keys)
}

/// Every kind's name, for the message about an unknown one: `"http", "tcp" or "heartbeat"`.
fn kind_names() -> String {
    let names: Vec<String> = probe::KINDS
        .iter()
        .map(|k| k.name)
        .chain([HEARTBEAT])
        .map(|n| format!("\"{n}\""))
        .collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// Reports keys that are neither common nor the kind's: another kind's key, or a misspelling.
fn check_keys(c: &mut Collector<'_>, table: &DeTable<'_>, kind: &str, allowed: &[&str]) {
    for (key, _) in table.iter() {
        let name: &str = key.get_ref();
        if MONITOR_KEYS.contains(&name) || allowed.contains(&name) {
            continue;
        }
        let other_kind = probe::KINDS
            .iter()
            .map(|k| k.keys)
            .chain([heartbeat::KEYS])
            .any(|keys| keys.contains(&name));
        if other_kind {
            c.at(Some(key.span()), format!(
                "{name} does not apply to a {kind} monitor; remove it (a {kind} monitor takes {})",
                allowed.join(", ")
            ));
        } else {
            let known: Vec<&str> = MONITOR_KEYS.iter().chain(allowed).copied().collect();
            c.at(
                Some(key.span()),
                format!(
                    "unknown key \"{name}\" in [monitor]; {}",
                    did_you_mean(name, &known)
                ),
            );
        }
    }
}

fn monitor(
    c: &mut Collector<'_>,
    spanned: &Spanned<RawMonitor>,
    table: &MonitorTable<'_>,
    timezone: chrono_tz::Tz,
) -> Option<MonitorSpec> {
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
    let kind = m
        .kind
        .as_ref()
        .map_or(DEFAULT_KIND, |k| k.get_ref().as_str());
    let Some(allowed) = kind_keys(kind) else {
        let span = m.kind.as_ref().map(Spanned::span);
        c.at(
            span,
            format!("kind \"{kind}\" is not known; use {}", kind_names()),
        );
        return None;
    };
    check_keys(c, table.table(), kind, allowed);
    let watch = match probe::kind(kind) {
        Some(k) => (k.parse)(table, c).map(Watch::Probe),
        None => heartbeat::parse(table, c, timezone).map(Watch::Heartbeat),
    };
    let default_interval = match &watch {
        Some(Watch::Heartbeat(hb)) => {
            (hb.grace.min(hb.max_runtime) / 4).clamp(MIN_INTERVAL, HEARTBEAT_EVALUATION)
        }
        _ => DEFAULT_INTERVAL,
    };
    let cron_zone = cron_timezone(c, m, kind, timezone);
    let (schedule, interval) = schedule(c, m, default_interval, cron_zone);
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
    let default_threshold = if kind == HEARTBEAT { (1, 1) } else { (3, 2) };
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
        watch: watch?,
        // The `[incidents]` setting, filled in once every section is read.
        reopen_within: crate::config::DEFAULT_REOPEN_WITHIN,
    })
}

/// The time zone of a `cron` line: the monitor's `timezone`, default the page's. A heartbeat
/// reads `timezone` for its own `schedule`; on any other monitor it is for `cron` only.
fn cron_timezone(
    c: &mut Collector<'_>,
    m: &RawMonitor,
    kind: &str,
    page: chrono_tz::Tz,
) -> chrono_tz::Tz {
    let Some(tz) = m.timezone.as_ref().filter(|_| kind != HEARTBEAT) else {
        return page;
    };
    if m.cron.is_none() {
        c.at(
            Some(tz.span()),
            "timezone is for cron; add cron = \"0 0 9 * * *\" (6 fields, seconds first) or remove timezone",
        );
        return page;
    }
    tz.get_ref().parse().unwrap_or_else(|_| {
        c.at(Some(tz.span()), format!(
            "timezone \"{}\" is not an IANA time zone name; write e.g. \"Europe/Berlin\" or \"UTC\"",
            tz.get_ref()
        ));
        page
    })
}

/// The schedule, and the interval when there is one (for timeout checks).
fn schedule(
    c: &mut Collector<'_>,
    m: &RawMonitor,
    default_interval: Duration,
    timezone: chrono_tz::Tz,
) -> (Option<Schedule>, Option<Duration>) {
    match (&m.interval, &m.cron) {
        (Some(_), Some(cron)) => {
            c.at(Some(cron.span()), "give either interval or cron, not both");
            (None, None)
        }
        (_, Some(cron)) => {
            let line = cron.get_ref();
            let parsed = croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Required)
                .build()
                .parse(line);
            match parsed {
                // croner takes an optional seventh field (the year): a line that ends runs once
                // more and then silently never again.
                Ok(_) if line.split_whitespace().count() != 6 => {
                    c.at(Some(cron.span()), format!(
                        "cron \"{line}\" has {} fields; write exactly 6, seconds first (e.g. \"0 */5 * * * *\")",
                        line.split_whitespace().count()
                    ));
                    (None, None)
                }
                Ok(parsed)
                    if parsed
                        .find_next_occurrence(&chrono::Utc::now(), false)
                        .is_err() =>
                {
                    c.at(Some(cron.span()), format!(
                        "cron \"{line}\" never fires (no such date); check the day and month fields"
                    ));
                    (None, None)
                }
                Ok(_) => (
                    Some(Schedule::Cron {
                        line: line.clone(),
                        timezone,
                    }),
                    None,
                ),
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
