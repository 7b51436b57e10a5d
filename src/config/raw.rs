//! The config file exactly as written: every field optional and spanned, so that
//! `validate` can report every problem at once with its line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub type Text = Option<Spanned<String>>;
pub type Number = Option<Spanned<i64>>;

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
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawServer {
    pub listen: Text,
    pub base_url: Text,
    pub data_dir: Text,
    pub max_concurrent_checks: Number,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPage {
    pub title: Text,
    pub description: Text,
    pub timezone: Text,
    pub history_days: Number,
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawMonitor {
    pub id: Text,
    pub name: Text,
    pub group: Text,
    pub kind: Text,
    pub url: Text,
    pub interval: Text,
    pub cron: Text,
    pub timeout: Text,
    pub expect_status: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    pub expect_body: Text,
    pub degraded_after: Text,
    pub failures_before_down: Number,
    pub successes_before_up: Number,
    pub tls_expiry_warn: Text,
    pub method: Text,
    pub headers: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub body: Text,
    pub expect_body_absent: Text,
    pub follow_redirects: Option<Spanned<bool>>,
    pub tls_verify: Option<Spanned<bool>>,
    pub tls_ca_file: Text,
    pub max_body: Option<Spanned<toml::Value>>,
    pub host: Text,
    pub port: Number,
    pub expect_address: Option<Spanned<Vec<Spanned<String>>>>,
    pub resolver: Text,
    pub grace: Text,
    pub token: Text,
    pub token_sha256: Text,
}

/// Keys that only some kinds of monitor take.
pub const HTTP_KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "expect_status",
    "expect_body",
    "expect_body_absent",
    "follow_redirects",
    "tls_verify",
    "tls_ca_file",
    "tls_expiry_warn",
    "max_body",
];
pub const TCP_KEYS: &[&str] = &["host", "port"];
pub const DNS_KEYS: &[&str] = &["host", "expect_address", "resolver"];
pub const HEARTBEAT_KEYS: &[&str] = &["grace", "token", "token_sha256"];

impl RawMonitor {
    /// The kind-specific keys this table sets, with where they are.
    pub fn kind_keys(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let text = |name: &'static str, v: &Text| v.as_ref().map(|v| (name, v.span()));
        [
            text("url", &self.url),
            text("method", &self.method),
            self.headers.as_ref().map(|v| ("headers", v.span())),
            text("body", &self.body),
            self.expect_status
                .as_ref()
                .map(|v| ("expect_status", v.span())),
            text("expect_body", &self.expect_body),
            text("expect_body_absent", &self.expect_body_absent),
            self.follow_redirects
                .as_ref()
                .map(|v| ("follow_redirects", v.span())),
            self.tls_verify.as_ref().map(|v| ("tls_verify", v.span())),
            text("tls_ca_file", &self.tls_ca_file),
            text("tls_expiry_warn", &self.tls_expiry_warn),
            self.max_body.as_ref().map(|v| ("max_body", v.span())),
            text("host", &self.host),
            self.port.as_ref().map(|v| ("port", v.span())),
            self.expect_address
                .as_ref()
                .map(|v| ("expect_address", v.span())),
            text("resolver", &self.resolver),
            text("grace", &self.grace),
            text("token", &self.token),
            text("token_sha256", &self.token_sha256),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

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
        ],
        "connectivity" => &["check"],
        "publish" => &["dir"],
        "server" => &["listen", "base_url", "data_dir", "max_concurrent_checks"],
        "page" => &["title", "description", "timezone", "history_days"],
        "admin" => &["username", "token_sha256", "password_hash"],
        "retention" => &["raw_checks"],
        "monitor" => &[
            "id",
            "name",
            "group",
            "kind",
            "url",
            "interval",
            "cron",
            "timeout",
            "expect_status",
            "expect_body",
            "degraded_after",
            "failures_before_down",
            "successes_before_up",
            "tls_expiry_warn",
            "method",
            "headers",
            "body",
            "expect_body_absent",
            "follow_redirects",
            "tls_verify",
            "tls_ca_file",
            "max_body",
            "host",
            "port",
            "expect_address",
            "resolver",
            "grace",
            "token",
            "token_sha256",
        ],
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
        ] {
            doc.push_str(&format!("[{table}]\n"));
            for key in known_keys(table) {
                doc.push_str(&format!("{key} = {}\n", sample(key)));
            }
        }
        doc.push_str("[[monitor]]\n");
        for key in known_keys("monitor") {
            doc.push_str(&format!("{key} = {}\n", sample(key)));
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
            | "history_days"
            | "failures_before_down"
            | "successes_before_up"
            | "port"
            | "max_body" => "1",
            "expect_status" => "[200]",
            "expect_address" => "[\"x\"]",
            "headers" => "{ a = \"b\" }",
            "follow_redirects" | "tls_verify" => "true",
            _ => "\"x\"",
        }
    }
}
