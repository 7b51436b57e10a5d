//! The maintenance calendars (SPEC §8): `maintenance.ics` for the page and
//! `components/{id}/maintenance.ics` for one component. One VEVENT per upcoming, active or
//! recent maintenance, with a UID that never changes and a SEQUENCE raised whenever its times
//! change, so a calendar app that subscribes replaces its copy instead of adding another.

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use rusqlite::Connection;

use super::cache::File;
use super::ics::Ics;
use crate::config::Config;
use crate::db::incidents::{self, Filter, IncidentRecord};
use crate::db::monitors;
use crate::domain::incident::Status;
use crate::views::model::Snapshot;

pub const CALENDAR: &str = "text/calendar; charset=utf-8";
/// The file name, on the page and under each component.
pub const FILE: &str = "maintenance.ics";
/// Ended maintenance stays in the calendars this many days (as long as in the feeds).
pub const CALENDAR_DAYS: i64 = 90;
/// At most this many events, the latest by their start: calendar apps fetch the whole file at
/// every refresh.
pub const CALENDAR_LIMIT: usize = 500;
/// How often a subscribed calendar app should fetch the file again (RFC 7986 and Outlook's
/// `X-PUBLISHED-TTL`).
const REFRESH: &str = "PT1H";

/// The cache and export path of a component's calendar.
pub fn component_path(key: &str) -> String {
    format!("components/{key}/{FILE}")
}

/// The maintenances the calendars list at `now`: not over yet, or ended within
/// [`CALENDAR_DAYS`]; latest first.
pub fn load(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Vec<IncidentRecord>> {
    let since = now - Duration::days(CALENDAR_DAYS);
    incidents::list(conn, Filter::MaintenancesSince(since, CALENDAR_LIMIT), now)
}

/// The page's calendar.
pub fn page_file(config: &Config, maintenances: &[IncidentRecord]) -> File {
    let name = format!("{} maintenance", config.page.title);
    file(config, FILE.to_string(), &name, maintenances.iter())
}

/// One component's calendar: only the maintenance that affects it.
pub fn component_file(
    config: &Config,
    key: &str,
    component_name: &str,
    maintenances: &[IncidentRecord],
) -> File {
    let name = format!("{component_name} maintenance · {}", config.page.title);
    let affecting = maintenances
        .iter()
        .filter(|m| m.components.iter().any(|c| c.key == key));
    file(config, component_path(key), &name, affecting)
}

/// Every component's calendar (for the static export).
pub fn component_files(config: &Config, snapshot: &Snapshot) -> Vec<File> {
    snapshot
        .components
        .iter()
        .map(|c| component_file(config, &c.monitor.key, &c.monitor.name, &snapshot.calendar))
        .collect()
}

/// A component's calendar read from the database; `None` for an unknown component.
pub fn component(
    config: &Config,
    conn: &Connection,
    key: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<File>> {
    let Some(monitor) = monitors::get_active(conn, key)? else {
        return Ok(None);
    };
    let maintenances = load(conn, now)?;
    Ok(Some(component_file(
        config,
        key,
        &monitor.name,
        &maintenances,
    )))
}

fn file<'a>(
    config: &Config,
    path: String,
    name: &str,
    maintenances: impl DoubleEndedIterator<Item = &'a IncidentRecord>,
) -> File {
    let base = config.base_url();
    let host = config.server.base_url.host_str().unwrap_or("signalfire");
    let mut ics = Ics::new();
    ics.raw("BEGIN", "VCALENDAR");
    ics.raw("VERSION", "2.0");
    ics.raw(
        "PRODID",
        &format!(
            "-//signalfire//signalfire {}//EN",
            env!("CARGO_PKG_VERSION")
        ),
    );
    ics.raw("CALSCALE", "GREGORIAN");
    ics.text("NAME", name);
    ics.text("X-WR-CALNAME", name);
    ics.text(
        "X-WR-CALDESC",
        &format!("Planned maintenance on {}", config.page.title),
    );
    ics.raw("URL", &format!("{base}/"));
    ics.raw("SOURCE;VALUE=URI", &format!("{base}/{path}"));
    ics.raw("REFRESH-INTERVAL;VALUE=DURATION", REFRESH);
    ics.raw("X-PUBLISHED-TTL", REFRESH);
    // Oldest first: the order people read a calendar file in.
    for m in maintenances.rev() {
        event(&mut ics, &base, host, m);
    }
    ics.raw("END", "VCALENDAR");
    File {
        path,
        content_type: CALENDAR,
        body: Bytes::from(ics.finish()),
    }
}

/// The UID of a maintenance's event: the same in every calendar and every render.
pub fn uid(id: i64, host: &str) -> String {
    format!("maintenance-{id}@{host}")
}

fn event(ics: &mut Ics, base: &str, host: &str, m: &IncidentRecord) {
    let (Some(from), Some(until)) = (m.scheduled_for, m.scheduled_until) else {
        return;
    };
    let (end, called_off) = outcome(m, from, until);
    let url = format!("{base}/incidents/{}", m.id);
    ics.raw("BEGIN", "VEVENT");
    ics.text("UID", &uid(m.id, host));
    // The last revision of the event (RFC 5545 §3.8.7.2, for a calendar without METHOD).
    ics.utc("DTSTAMP", m.updated_at);
    ics.utc("CREATED", m.created_at);
    ics.utc("LAST-MODIFIED", m.updated_at);
    ics.utc("DTSTART", from);
    // Whole seconds: an event never ends before it starts.
    ics.utc("DTEND", end.max(from + Duration::seconds(1)));
    ics.raw("SEQUENCE", &m.sequence.max(0).to_string());
    ics.raw("STATUS", if called_off { "CANCELLED" } else { "CONFIRMED" });
    // Maintenance of a website does not make its readers busy.
    ics.raw("TRANSP", "TRANSPARENT");
    ics.text("SUMMARY", &m.name);
    ics.text("DESCRIPTION", &description(m, &url));
    ics.raw("URL", &url);
    ics.raw("END", "VEVENT");
}

/// When the event ends, and whether it was called off. A maintenance that was over (cancelled,
/// or completed by the owner) before its window began never took place; one that ended inside
/// its window took place until then.
fn outcome(m: &IncidentRecord, from: DateTime<Utc>, until: DateTime<Utc>) -> (DateTime<Utc>, bool) {
    let ended = m.resolved_at.filter(|_| m.status == Status::Completed);
    match ended {
        Some(ended) if ended <= from => (until, true),
        Some(ended) if ended < until => (ended, false),
        _ => (until, false),
    }
}

/// The owner's latest note (else the latest one) as plain text, the affected components and
/// the link: calendar apps that ignore `URL` still show where to read more.
fn description(m: &IncidentRecord, url: &str) -> String {
    let written = |owner_only: bool| {
        m.updates
            .iter()
            .filter(|u| !u.body.trim().is_empty())
            .find(|u| !owner_only || !u.automatic)
    };
    let mut parts = Vec::new();
    if let Some(note) = written(true).or_else(|| written(false)) {
        parts.push(crate::markdown::plain_text(&note.body));
    }
    if !m.components.is_empty() {
        let names: Vec<&str> = m.components.iter().map(|c| c.name.as_str()).collect();
        parts.push(format!("Affects: {}.", names.join(", ")));
    }
    parts.push(format!("Details: {url}"));
    parts.join("\n\n")
}
