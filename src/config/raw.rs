//! The config file exactly as written: every field optional and spanned, so that
//! `validate` can report every problem at once with its line and column.

use serde::Deserialize;
use toml::Spanned;

pub use crate::keys::{Number, Text};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    pub server: RawServer,
    pub page: RawPage,
    pub admin: RawAdmin,
    pub retention: RawRetention,
    pub connectivity: RawConnectivity,
    pub publish: RawPublish,
    #[serde(rename = "monitor")]
    pub monitors: Vec<Spanned<RawMonitor>>,
    pub smtp: Option<Spanned<RawSmtp>>,
    #[serde(rename = "notify")]
    pub channels: Vec<Spanned<RawNotify>>,
    pub subscribers: RawSubscribers,
    pub feeds: RawFeeds,
    pub reminders: RawReminders,
    pub incidents: RawIncidents,
}

/// `[incidents]`: flap damping — reopening a recently resolved automatic incident, and when a
/// monitor counts as flapping for the owner's alerts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawIncidents {
    pub reopen_within: Text,
    pub flap_window: Text,
    pub flap_changes: Number,
}

/// `[reminders]`: owner reminders about open incidents; a key left out turns its reminder off.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawReminders {
    pub incident_without_update: Text,
    pub recovered_but_open: Text,
}

/// `[feeds]`: WebSub hubs that announce new feed items.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawFeeds {
    pub websub_hubs: TextList,
}

/// `[smtp]`: the server e-mail goes out through (the password comes from the environment).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawSmtp {
    pub host: Text,
    pub port: Number,
    pub tls: Text,
    pub username: Text,
    pub from: Text,
}

pub type TextList = Option<Spanned<Vec<Spanned<String>>>>;

/// One `[[notify]]` channel.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawNotify {
    pub id: Text,
    pub kind: Text,
    pub to: TextList,
    pub url: Text,
    pub secret: Text,
    pub events: TextList,
    pub components: TextList,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawSubscribers {
    pub email: Option<Spanned<bool>>,
    /// At most one mail per incident this often; updates between are gathered into the next.
    pub min_interval: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawServer {
    pub listen: Text,
    pub base_url: Text,
    pub data_dir: Text,
    pub max_concurrent_checks: Number,
    pub trusted_proxies: TextList,
    pub max_connections: Number,
    pub max_connections_per_client: Number,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPage {
    pub title: Text,
    pub description: Text,
    pub timezone: Text,
    pub history_days: Number,
    pub embed_origins: TextList,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawAdmin {
    pub username: Text,
    pub token_sha256: Text,
    pub password_hash: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRetention {
    pub raw_checks: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPublish {
    pub dir: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawConnectivity {
    pub check: Text,
}

/// The keys every `[[monitor]]` takes; each kind reads its own besides (`probe::KINDS`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawMonitor {
    pub id: Text,
    pub name: Text,
    pub group: Text,
    pub kind: Text,
    pub interval: Text,
    pub cron: Text,
    /// The time zone of `cron` (heartbeats read it for their `schedule`).
    pub timezone: Text,
    pub timeout: Text,
    pub degraded_after: Text,
    pub failures_before_down: Number,
    pub successes_before_up: Number,
}

/// The keys of [`RawMonitor`].
pub const MONITOR_KEYS: &[&str] = &[
    "id",
    "name",
    "group",
    "kind",
    "interval",
    "cron",
    "timezone",
    "timeout",
    "degraded_after",
    "failures_before_down",
    "successes_before_up",
];

/// The keys each table accepts, for "did you mean" hints on unknown keys.
pub fn known_keys(table: &str) -> &'static [&'static str] {
    match table {
        "" => &[
            "server",
            "page",
            "admin",
            "retention",
            "connectivity",
            "publish",
            "monitor",
            "smtp",
            "notify",
            "subscribers",
            "feeds",
            "reminders",
            "incidents",
        ],
        "smtp" => &["host", "port", "tls", "username", "from"],
        "notify" => &["id", "kind", "to", "url", "secret", "events", "components"],
        "subscribers" => &["email", "min_interval"],
        "incidents" => &["reopen_within", "flap_window", "flap_changes"],
        "connectivity" => &["check"],
        "publish" => &["dir"],
        "server" => &[
            "listen",
            "base_url",
            "data_dir",
            "max_concurrent_checks",
            "trusted_proxies",
            "max_connections",
            "max_connections_per_client",
        ],
        "page" => &[
            "title",
            "description",
            "timezone",
            "history_days",
            "embed_origins",
        ],
        "feeds" => &["websub_hubs"],
        "reminders" => &["incident_without_update", "recovered_but_open"],
        "admin" => &["username", "token_sha256", "password_hash"],
        "retention" => &["raw_checks"],
        "monitor" => MONITOR_KEYS,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key listed for hints must really be accepted (none reported as ignored).
    #[test]
    fn known_key_lists_match_the_structs() {
        let mut doc = String::new();
        for table in [
            "server",
            "page",
            "admin",
            "retention",
            "connectivity",
            "publish",
            "smtp",
            "subscribers",
            "feeds",
            "reminders",
            "incidents",
        ] {
            doc.push_str(&format!("[{table}]\n"));
            for key in known_keys(table) {
                doc.push_str(&format!("{key} = {}\n", sample(key)));
            }
        }
        for array in ["monitor", "notify"] {
            doc.push_str(&format!("[[{array}]]\n"));
            for key in known_keys(array) {
                doc.push_str(&format!("{key} = {}\n", sample(key)));
            }
        }
        let de = toml::Deserializer::parse(&doc).expect("sample parses");
        let mut ignored = Vec::new();
        let _: RawConfig = serde_ignored::deserialize(de, |p| ignored.push(p.to_string()))
            .expect("sample deserializes");
        assert!(ignored.is_empty(), "listed but not accepted: {ignored:?}");
    }

    fn sample(key: &str) -> &'static str {
        match key {
            "max_concurrent_checks"
            | "max_connections"
            | "max_connections_per_client"
            | "history_days"
            | "failures_before_down"
            | "successes_before_up"
            | "flap_changes"
            | "port" => "1",
            "email" => "true",
            "to" | "events" | "components" | "trusted_proxies" => "[\"x\"]",
            "websub_hubs" | "embed_origins" => "[\"https://x.example\"]",
            _ => "\"x\"",
        }
    }
}
