//! The keys of a `heartbeat` monitor: a job pings us; it is not probed. When runs are
//! expected: `period` or `schedule` (in `timezone`, default the page's), plus `grace`.

use chrono_tz::Tz;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::heartbeat::{Expect, HeartbeatSpec, JobSchedule};
use crate::keys::{
    Collector, MonitorTable, Text, duration, optional_duration, required, sha256_hex,
};

pub const KEYS: &[&str] = &[
    "grace",
    "token",
    "token_sha256",
    "period",
    "schedule",
    "timezone",
    "max_runtime",
];

/// The shortest token we accept: it is the only secret in the ping URL.
const MIN_TOKEN: usize = 16;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HeartbeatKeys {
    grace: Text,
    token: Text,
    token_sha256: Text,
    period: Text,
    schedule: Text,
    timezone: Text,
    max_runtime: Text,
}

pub fn parse(
    table: &MonitorTable<'_>,
    c: &mut Collector<'_>,
    page_timezone: Tz,
) -> Option<HeartbeatSpec> {
    let m: HeartbeatKeys = table.keys(c)?;
    let grace = required(
        c,
        table.span(),
        &m.grace,
        "a heartbeat monitor needs grace = \"1h\" (how late a ping may be)",
    )
    .map(|_| duration(c, &m.grace, "grace", "1h"))?;
    let token_sha256 = match (&m.token, &m.token_sha256) {
        (Some(t), None) if t.get_ref().len() >= MIN_TOKEN => {
            Some(Sha256::digest(t.get_ref().as_bytes()).into())
        }
        (Some(t), None) => {
            c.at(
                Some(t.span()),
                "token must be at least 16 characters (it is the only secret in the ping URL)",
            );
            None
        }
        (None, Some(h)) => sha256_hex(c, h, "token_sha256"),
        (Some(_), Some(h)) => {
            c.at(
                Some(h.span()),
                "give either token or token_sha256, not both",
            );
            None
        }
        (None, None) => {
            c.at(
                Some(table.span()),
                "a heartbeat monitor needs token = \"…\" (16+ characters) or token_sha256",
            );
            None
        }
    };
    let timezone = match &m.timezone {
        None => page_timezone,
        Some(tz) => tz.get_ref().parse().unwrap_or_else(|_| {
            c.at(Some(tz.span()), format!(
                "timezone \"{}\" is not an IANA time zone name; write e.g. \"Europe/Berlin\" or \"UTC\"",
                tz.get_ref()
            ));
            page_timezone
        }),
    };
    let expect = expect(c, &m, timezone)?;
    let max_runtime = optional_duration(c, &m.max_runtime, "max_runtime").unwrap_or(grace);
    if max_runtime.is_zero() || grace.is_zero() {
        let key = if grace.is_zero() {
            &m.grace
        } else {
            &m.max_runtime
        };
        c.at(
            key.as_ref().map(|k| k.span()),
            "grace and max_runtime must be longer than 0s; write e.g. \"10m\"",
        );
        return None;
    }
    Some(HeartbeatSpec {
        expect,
        grace,
        max_runtime,
        timezone,
        token_sha256: token_sha256?,
    })
}

/// `period`, `schedule`, or neither (each ping expected within `grace` of the one before).
fn expect(c: &mut Collector<'_>, m: &HeartbeatKeys, timezone: Tz) -> Option<Expect> {
    match (&m.period, &m.schedule) {
        (Some(_), Some(schedule)) => {
            c.at(
                Some(schedule.span()),
                "give either period or schedule, not both",
            );
            None
        }
        (Some(period), None) => match optional_duration(c, &m.period, "period") {
            Some(p) if p.is_zero() => {
                c.at(
                    Some(period.span()),
                    "period must be longer than 0s; write e.g. \"1h\"",
                );
                None
            }
            Some(p) => Some(Expect::Every(p)),
            None => None,
        },
        (None, Some(schedule)) => match JobSchedule::parse(schedule.get_ref(), timezone) {
            Ok(s) => Some(Expect::Schedule(Box::new(s))),
            Err(e) => {
                c.at(Some(schedule.span()), e);
                None
            }
        },
        (None, None) => {
            if let Some(tz) = &m.timezone {
                c.at(
                    Some(tz.span()),
                    "timezone is for schedule; add schedule = \"30 2 * * *\" or remove timezone",
                );
            }
            Some(Expect::AfterEachPing)
        }
    }
}
