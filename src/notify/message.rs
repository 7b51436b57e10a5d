//! What a notification says: built once, inside the transaction of the change it reports (so it
//! says what was true then), stored with the notification, and shaped for each channel when it
//! is sent. Short: what happened, since when, and a link to the page.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Config;
use crate::db::incidents::{self, IncidentRecord};
use crate::db::monitors;
use crate::domain::duration::format_span;
use crate::domain::event::{Event, MaintenanceChange};
use crate::domain::incident::{Kind, Status};
use crate::domain::notification::{EventKind, Severity};
use crate::domain::status::{Health, Impact, Indicator};
use crate::domain::window::window_words;
use crate::render::statuspage;

/// What a message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// News of a change.
    #[default]
    Notice,
    /// The owner's "send a test".
    Test,
    /// A new subscriber's double opt-in: the link confirms.
    Confirmation,
}

/// One message, whatever the channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub event: EventKind,
    #[serde(default)]
    pub purpose: Purpose,
    /// The subject line.
    pub title: String,
    /// A few lines of plain text (no link: each channel places it).
    pub text: String,
    /// The same as HTML (the owner's note sanitized when it was written).
    pub html: String,
    /// Where to read more: the incident, or the component on the page.
    pub url: String,
    pub severity: Severity,
    /// ntfy tags (emoji short codes).
    pub tags: Vec<String>,
    /// Messages with the same thread are one e-mail conversation (`incident-12`).
    pub thread: Option<String>,
    /// Monitor ids it is about.
    pub components: Vec<String>,
    /// The body of a `webhook` channel: Statuspage's webhook shape.
    pub webhook: Value,
    pub at: DateTime<Utc>,
}

/// A message and who may hear it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub message: Message,
    /// The monitor rows it is about (for subscribers' choices).
    pub rows: Vec<i64>,
    /// False when the owner asked that nobody be told.
    pub notify: bool,
}

/// Formats times for people: the page's time zone.
pub(super) fn local(config: &Config, at: DateTime<Utc>) -> String {
    at.with_timezone(&config.page.timezone)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

pub(super) fn escape(text: &str) -> String {
    maud::html! { (text) }.into_string()
}

/// The `meta` and `page` of Statuspage's webhook body. The page's status is the outbox's to
/// set ([`set_page_status`]): it keeps it as changes pass, where reading it here would read
/// the whole site for every message.
pub(super) fn webhook_frame(config: &Config, now: DateTime<Utc>) -> Value {
    json!({
        "meta": {
            "unsubscribe": null,
            "documentation": "https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/",
            "generated_at": statuspage::timestamp(now),
        },
        "page": {
            "id": statuspage::page_id(config),
            "status_indicator": null,
            "status_description": null,
        },
    })
}

/// Puts the page's status at the moment of the change into a message's webhook body.
pub fn set_page_status(message: &mut Message, indicator: Indicator) {
    if let Some(page) = message.webhook.get_mut("page") {
        page["status_indicator"] = json!(indicator.as_str());
        page["status_description"] = json!(indicator.description());
    }
}

/// The message an event causes, if any: monitor transitions, the checker going offline or
/// back, incident updates, maintenance changes (reminders to the owner: `notify::reminder`).
/// Checks themselves and edits tell nobody.
pub fn for_event(
    conn: &Connection,
    config: &Config,
    event: &Event,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<Planned>> {
    match event {
        Event::MonitorChanged {
            monitor,
            from,
            to,
            reason,
            previous_since,
            at,
        } => monitor_changed(
            conn,
            config,
            monitor.as_str(),
            (*from, *to),
            reason.as_deref(),
            *previous_since,
            *at,
        ),
        Event::CheckerOffline { since } => checker(config, true, *since),
        Event::CheckerOnline { at } => checker(config, false, *at),
        Event::IncidentUpdated {
            incident,
            update,
            notify,
            ..
        } => incident_update(conn, config, *incident, Some(*update), None, *notify, now),
        Event::MaintenanceChanged {
            maintenance,
            change,
            update,
            notify,
        } => incident_update(
            conn,
            config,
            *maintenance,
            *update,
            Some(*change),
            *notify,
            now,
        ),
        // What a reminder says is `notify::reminder`'s (it builds on this module; the outbox
        // asks it directly).
        Event::Reminder { .. }
        | Event::CheckRecorded { .. }
        | Event::JobRan { .. }
        | Event::IncidentEdited { .. }
        | Event::IncidentDeleted { .. } => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)]
fn monitor_changed(
    conn: &Connection,
    config: &Config,
    key: &str,
    (from, to): (Health, Health),
    reason: Option<&str>,
    previous_since: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> rusqlite::Result<Option<Planned>> {
    let Some(m) = monitors::get_active(conn, key)? else {
        return Ok(None);
    };
    let reason = reason.unwrap_or("check failed");
    let name = &m.name;
    let (title, text, severity, tag) = match (from, to) {
        (_, Health::Down) => {
            let since = m.state.since.unwrap_or(at);
            (
                format!("{name} is down"),
                format!(
                    "{name} is down since {}: {reason}.\nChecked: {}",
                    local(config, since),
                    m.target
                ),
                Severity::Urgent,
                "rotating_light",
            )
        }
        (Health::Down, Health::Degraded) => (
            format!("{name} is responding again, but degraded"),
            format!(
                "{name} is responding again since {}, but degraded: {reason}.",
                local(config, at)
            ),
            Severity::High,
            "warning",
        ),
        (Health::Down, _) => {
            let how_long = previous_since
                .and_then(|since| (at - since).to_std().ok())
                .map(|d| format!(" after {}", format_span(d)))
                .unwrap_or_default();
            let since = previous_since
                .map(|s| format!(" (down since {})", local(config, s)))
                .unwrap_or_default();
            (
                format!("{name} is up again"),
                format!("{name} is up again{how_long}{since}."),
                Severity::Low,
                "white_check_mark",
            )
        }
        (_, Health::Degraded) => (
            format!("{name} is degraded"),
            format!("{name} is degraded since {}: {reason}.", local(config, at)),
            Severity::High,
            "warning",
        ),
        (Health::Degraded, Health::Up) => (
            format!("{name} is back to normal"),
            format!("{name} is back to normal since {}.", local(config, at)),
            Severity::Low,
            "white_check_mark",
        ),
        _ => return Ok(None),
    };
    let base = config.base_url();
    let status = to.component_status().as_str();
    let mut webhook = webhook_frame(config, at);
    webhook["component_update"] = json!({
        "created_at": statuspage::timestamp(at),
        "new_status": status,
        // Never checked before: no old status (Statuspage's clients expect a real one or none).
        "old_status": (from != Health::Unknown).then(|| from.component_status().as_str()),
        "id": format!("{key}-{}", at.timestamp_millis()),
        "component_id": key,
    });
    webhook["component"] = json!({
        "created_at": statuspage::timestamp(m.created_at),
        "id": key,
        "name": name,
        "status": status,
    });
    let html = format!("<p>{}</p>", escape(&text).replace('\n', "<br>"));
    Ok(Some(Planned {
        message: Message {
            event: EventKind::Monitor,
            purpose: Purpose::Notice,
            title,
            text,
            html,
            url: format!("{base}/#component-{key}"),
            severity,
            tags: vec![tag.to_string()],
            thread: None,
            components: vec![key.to_string()],
            webhook,
            at,
        },
        rows: vec![m.row_id],
        notify: true,
    }))
}

fn checker(config: &Config, offline: bool, at: DateTime<Utc>) -> rusqlite::Result<Option<Planned>> {
    let (title, text, severity, tag) = if offline {
        (
            "The status checker is offline".to_string(),
            format!(
                "Since {} this status server cannot reach its connectivity check: failed checks are not counted, and the page says so.",
                local(config, at)
            ),
            Severity::High,
            "electric_plug",
        )
    } else {
        (
            "The status checker is online again".to_string(),
            format!("Since {} failed checks count again.", local(config, at)),
            Severity::Low,
            "white_check_mark",
        )
    };
    let mut webhook = webhook_frame(config, at);
    webhook["checker"] = json!({
        "status": if offline { "offline" } else { "online" },
        "since": statuspage::timestamp(at),
    });
    Ok(Some(Planned {
        message: Message {
            event: EventKind::Monitor,
            purpose: Purpose::Notice,
            html: format!("<p>{}</p>", escape(&text)),
            title,
            text,
            url: format!("{}/", config.base_url()),
            severity,
            tags: vec![tag.to_string()],
            thread: None,
            components: Vec::new(),
            webhook,
            at,
        },
        rows: Vec::new(),
        notify: true,
    }))
}

/// The word a maintenance change puts in front of its name.
fn maintenance_word(change: MaintenanceChange, status: Status) -> &'static str {
    match change {
        MaintenanceChange::Scheduled => "Scheduled",
        MaintenanceChange::Rescheduled => "Rescheduled",
        MaintenanceChange::Started => "In progress",
        MaintenanceChange::Completed => "Completed",
        MaintenanceChange::Cancelled => "Cancelled",
        MaintenanceChange::Noted => status.label(),
    }
}

fn severity_of(i: &IncidentRecord, status: Status) -> (Severity, &'static str) {
    if i.kind == Kind::Maintenance {
        return (Severity::Low, "wrench");
    }
    if status.is_closed() {
        return (Severity::Low, "white_check_mark");
    }
    match i.impact {
        Impact::Critical => (Severity::Urgent, "rotating_light"),
        Impact::Major => (Severity::High, "warning"),
        Impact::Minor | Impact::None => (Severity::Normal, "information_source"),
    }
}

fn incident_update(
    conn: &Connection,
    config: &Config,
    id: i64,
    update: Option<i64>,
    change: Option<MaintenanceChange>,
    notify: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<Planned>> {
    let Some(record) = incidents::get(conn, id)? else {
        return Ok(None);
    };
    let written = update.and_then(|u| record.updates.iter().find(|x| x.id == u));
    let status = written.map_or(record.status, |u| u.status);
    let word = match change {
        Some(change) => maintenance_word(change, status),
        None => status.label(),
    };
    let title = format!("[{word}] {}", record.name);
    let mut lines = Vec::new();
    let mut html = String::new();
    let window = record.scheduled_for.zip(record.scheduled_until);
    if let Some((from, until)) = window {
        let words = format!(
            "Window: {}.",
            window_words(from, until, config.page.timezone)
        );
        html.push_str(&format!("<p>{}</p>", escape(&words)));
        lines.push(words);
    }
    if let Some(u) = written.filter(|u| !u.body.trim().is_empty()) {
        lines.push(u.body.trim().to_string());
        html.push_str(&u.body_html);
    }
    let names: Vec<&str> = record.components.iter().map(|c| c.name.as_str()).collect();
    if !names.is_empty() {
        let affected = format!("Affects: {}.", names.join(", "));
        html.push_str(&format!("<p>{}</p>", escape(&affected)));
        lines.push(affected);
    }
    let base = config.base_url();
    let anchor = update.map(|u| format!("#update-{u}")).unwrap_or_default();
    let (severity, tag) = severity_of(&record, status);
    let mut webhook = webhook_frame(config, now);
    webhook["incident"] = serde_json::to_value(statuspage::incident_json(
        &record,
        &base,
        &statuspage::page_id(config),
    ))
    .unwrap_or(Value::Null);
    if let Some((from, until)) = window {
        webhook["maintenance_window"] = window_json(config, from, until);
    }
    Ok(Some(Planned {
        message: Message {
            event: if record.kind == Kind::Maintenance {
                EventKind::Maintenance
            } else {
                EventKind::Incident
            },
            purpose: Purpose::Notice,
            title,
            text: lines.join("\n\n"),
            html,
            url: format!("{base}/incidents/{id}{anchor}"),
            severity,
            tags: vec![tag.to_string()],
            thread: Some(format!("incident-{id}")),
            components: record.components.iter().map(|c| c.key.clone()).collect(),
            webhook,
            at: written.map_or(now, |u| u.created_at),
        },
        rows: record.components.iter().map(|c| c.monitor_row).collect(),
        notify,
    }))
}

/// A maintenance's window for a webhook, beside Statuspage's UTC `scheduled_for`/`until`: the
/// page's zone, both ends with their offset there, and the words people read.
fn window_json(config: &Config, from: DateTime<Utc>, until: DateTime<Utc>) -> Value {
    let zone = config.page.timezone;
    let local = |at: DateTime<Utc>| {
        at.with_timezone(&zone)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    json!({
        "scheduled_for": statuspage::timestamp(from),
        "scheduled_until": statuspage::timestamp(until),
        "timezone": zone.name(),
        "scheduled_for_local": local(from),
        "scheduled_until_local": local(until),
        "description": window_words(from, until, zone),
    })
}

/// "Does this channel work?", sent when the owner asks.
pub fn test(config: &Config, channel: &str, now: DateTime<Utc>) -> Message {
    let text = format!(
        "This is a test of the channel \"{channel}\" of {}. Nothing is wrong.",
        config.page.title
    );
    let base = config.base_url();
    Message {
        event: EventKind::Monitor,
        purpose: Purpose::Test,
        title: format!("Test from {}", config.page.title),
        html: format!("<p>{}</p>", escape(&text)),
        text,
        url: format!("{base}/"),
        severity: Severity::Low,
        tags: vec!["test_tube".to_string()],
        thread: None,
        components: Vec::new(),
        webhook: json!({
            "meta": { "generated_at": statuspage::timestamp(now) },
            "page": { "id": statuspage::page_id(config) },
            "test": { "channel": channel },
        }),
        at: now,
    }
}

/// The double opt-in mail of a new subscriber; the confirmation link carries the token.
pub fn confirmation(config: &Config, now: DateTime<Utc>) -> Message {
    let text = format!(
        "Someone, probably you, asked for e-mail updates from {}. Confirm with the link below; if it was not you, ignore this mail and nothing more will come.",
        config.page.title
    );
    Message {
        event: EventKind::Incident,
        purpose: Purpose::Confirmation,
        title: format!("Confirm your updates from {}", config.page.title),
        html: format!("<p>{}</p>", escape(&text)),
        text,
        url: format!("{}/subscribe/confirm", config.base_url()),
        severity: Severity::Low,
        tags: Vec::new(),
        thread: None,
        components: Vec::new(),
        webhook: Value::Null,
        at: now,
    }
}
