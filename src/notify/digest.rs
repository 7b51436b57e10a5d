//! What a paced message says (flap damping): an incident's mail that gathers the updates held
//! back, the owner's "flapping" alert and their digest of a flapping monitor.

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde_json::Value;

use super::message::{Message, escape, local};
use crate::config::Config;
use crate::db::incidents;

/// An incident's message that gathers the updates held back since `since` (pacing): the
/// latest update says the current state, then each earlier one with its time, oldest first.
pub fn gathered(
    conn: &Connection,
    config: &Config,
    latest: &Message,
    incident: i64,
    since: DateTime<Utc>,
) -> rusqlite::Result<Message> {
    let Some(record) = incidents::get(conn, incident)? else {
        return Ok(latest.clone());
    };
    // The update being told is the newest; the ones before it since `since` were held.
    let newest = record.updates.iter().map(|u| u.id).max();
    let mut earlier: Vec<_> = record
        .updates
        .iter()
        .filter(|u| u.created_at >= since && Some(u.id) != newest)
        .collect();
    earlier.sort_by_key(|u| (u.created_at, u.id));
    if earlier.is_empty() {
        return Ok(latest.clone());
    }
    let mut message = latest.clone();
    let lines: Vec<String> = earlier
        .iter()
        .map(|u| {
            let body = u.body.trim().lines().next().unwrap_or_default().to_string();
            format!(
                "- {} {}: {body}",
                local(config, u.created_at),
                u.status.label()
            )
        })
        .collect();
    let heading = format!("Also since {}:", local(config, since));
    message.text = format!("{}\n\n{heading}\n{}", latest.text, lines.join("\n"));
    let items: String = lines
        .iter()
        .map(|l| format!("<li>{}</li>", escape(l.trim_start_matches("- "))))
        .collect();
    message.html = format!("{}<p>{}</p><ul>{items}</ul>", latest.html, escape(&heading));
    Ok(message)
}

/// The owner's alert that a monitor began to flap: `changes` within `window`; what follows
/// comes as a digest per window.
pub fn flapping(
    config: &Config,
    latest: &Message,
    changes: usize,
    window: std::time::Duration,
) -> Message {
    let name = monitor_name(latest);
    let window = crate::domain::duration::format_duration(window);
    let mut message = latest.clone();
    message.title = format!("{name} is flapping");
    message.text = format!(
        "{name} changed {changes} times within {window}: it is flapping. Until it settles, its alerts come as one digest every {window}.\nLatest, {}: {}.\n{}",
        local(config, latest.at),
        latest.title,
        latest.text
    );
    message.html = format!("<p>{}</p>", escape(&message.text).replace('\n', "<br>"));
    message.tags = vec!["warning".to_string()];
    message
}

/// The owner's digest of a flapping monitor: `count` changes since `since`, and the latest.
pub fn digest(config: &Config, latest: &Message, count: u32, since: DateTime<Utc>) -> Message {
    let name = monitor_name(latest);
    let mut message = latest.clone();
    message.title = format!(
        "{name} is flapping: {} since {}",
        changes(count),
        local(config, since)
    );
    message.text = format!(
        "{name} changed {} since {} (flapping).\nNow, {}: {}.\n{}",
        changes(count),
        local(config, since),
        local(config, latest.at),
        latest.title,
        latest.text
    );
    message.html = format!("<p>{}</p>", escape(&message.text).replace('\n', "<br>"));
    message
}

fn changes(count: u32) -> String {
    if count == 1 {
        "1 change".to_string()
    } else {
        format!("{count} changes")
    }
}

/// The monitor's name, from an alert's title (`Blog is down`, `Blog is up again`).
fn monitor_name(latest: &Message) -> String {
    latest
        .webhook
        .pointer("/component/name")
        .and_then(Value::as_str)
        .map_or_else(|| latest.title.clone(), str::to_string)
}
