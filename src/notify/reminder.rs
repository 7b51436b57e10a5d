//! What a reminder to the owner says (SPEC §9): which incident, why it needs attention, and a
//! link to where the owner acts on it (`/admin/incidents/{id}`, not the public page). Only the
//! owner's channels hear it: its event kind is never a subscriber's, and public channels
//! (mastodon) never hear it whatever their `events`.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::{Value, json};

use super::message::{Message, Planned, Purpose, escape, local, webhook_frame};
use crate::config::Config;
use crate::db::incidents;
use crate::domain::duration::format_span;
use crate::domain::incident::Kind;
use crate::domain::notification::{EventKind, Severity};
use crate::domain::reminder::ReminderKind;
use crate::render::statuspage;

/// The reminder about `id`, unless the incident is gone or closed meanwhile.
pub fn message(
    conn: &Connection,
    config: &Config,
    id: i64,
    kind: ReminderKind,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<Planned>> {
    let Some(record) = incidents::get(conn, id)? else {
        return Ok(None);
    };
    if record.kind != Kind::Incident || record.status.is_closed() {
        return Ok(None);
    }
    let name = &record.name;
    let span = format_span((now - since).to_std().unwrap_or_default());
    let status = record.status.label();
    let (title, lead, detail) = match kind {
        ReminderKind::IncidentWithoutUpdate => (
            format!("Reminder: \"{name}\" has had no update for {span}"),
            format!(
                "\"{name}\" has had no update for {span} — post one so clients know where things stand."
            ),
            format!("Last update: {} ({status}).", local(config, since)),
        ),
        ReminderKind::RecoveredButOpen => (
            format!("Reminder: \"{name}\" is still open"),
            format!(
                "Every monitor \"{name}\" affects has been up for {span}, but the incident is still open — resolve it if it is over."
            ),
            format!("Status: {status}."),
        ),
    };
    let mut lines = vec![lead.clone(), detail];
    let names: Vec<&str> = record.components.iter().map(|c| c.name.as_str()).collect();
    if !names.is_empty() {
        lines.push(format!("Affects: {}.", names.join(", ")));
    }
    let html: String = lines
        .iter()
        .map(|l| format!("<p>{}</p>", escape(l)))
        .collect();
    let base = config.base_url();
    let url = format!("{base}/admin/incidents/{id}");
    let mut webhook = webhook_frame(config, now);
    let incident = serde_json::to_value(statuspage::incident_json(
        &record,
        &base,
        &statuspage::page_id(config),
    ))
    .unwrap_or(Value::Null);
    webhook["reminder"] = json!({
        "kind": kind.as_str(),
        "created_at": statuspage::timestamp(now),
        "since": statuspage::timestamp(since),
        "text": lead,
        "admin_url": url,
        "incident": incident,
    });
    Ok(Some(Planned {
        message: Message {
            event: EventKind::Reminder,
            purpose: Purpose::Notice,
            title,
            text: lines.join("\n"),
            html,
            url,
            severity: Severity::Normal,
            tags: vec!["alarm_clock".to_string()],
            thread: Some(format!("incident-{id}")),
            components: record.components.iter().map(|c| c.key.clone()).collect(),
            webhook,
            at: now,
        },
        rows: record.components.iter().map(|c| c.monitor_row).collect(),
        notify: true,
    }))
}
