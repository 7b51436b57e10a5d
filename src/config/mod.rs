//! Configuration: TOML → [`Config`], with every problem reported as `file:line:column: message`.

pub mod notify;
mod raw;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use ipnet::IpNet;
use url::Url;

use crate::domain::heartbeat::HeartbeatSpec;
use crate::domain::monitor::{MonitorId, MonitorInfo, Schedule, Thresholds};
use crate::domain::notification::EventKind;
use crate::domain::reminder;
pub use crate::keys::{ConfigError, ConfigErrors};
use crate::probe::Probe;

/// Environment variable that holds the admin API token (instead of `admin.token_sha256`).
pub const ENV_ADMIN_TOKEN: &str = "SIGNALFIRE_ADMIN_TOKEN";
/// Environment variable that holds the admin password hash (instead of `admin.password_hash`).
pub const ENV_ADMIN_PASSWORD_HASH: &str = "SIGNALFIRE_ADMIN_PASSWORD_HASH";

/// The whole configuration, parsed and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    pub server: ServerConfig,
    pub page: PageConfig,
    pub admin: AdminConfig,
    pub retention: RetentionConfig,
    /// Checked before a monitor is declared down; when it fails too, the checker is offline.
    pub connectivity: Option<ConnectivityConfig>,
    /// When set, the server writes the static site here after every change (SPEC §6).
    pub publish: Option<PathBuf>,
    pub monitors: Vec<MonitorSpec>,
    /// `[smtp]`, `[[notify]]` channels and `[subscribers]` (SPEC §7).
    pub notify: notify::NotifyConfig,
    /// `[feeds] websub_hubs`: the hubs every feed names and that hear of new items (SPEC §8).
    pub websub_hubs: Vec<Url>,
    /// `[reminders]`: what the owner is reminded of about open incidents (SPEC §9).
    pub reminders: reminder::Settings,
    /// `[incidents]`: flap damping.
    pub incidents: IncidentsConfig,
}

/// `[incidents]`: how a monitor going down and up again and again is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentsConfig {
    /// An outage back within this long of its automatic incident's resolution reopens it.
    pub reopen_within: Duration,
    /// More than `flap_changes` changes of a monitor's health within this long: it flaps, and
    /// the owner gets one "flapping" alert, then a digest per `flap_window`, not an alert each.
    pub flap_window: Duration,
    pub flap_changes: u32,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        Self {
            reopen_within: DEFAULT_REOPEN_WITHIN,
            flap_window: DEFAULT_FLAP_WINDOW,
            flap_changes: DEFAULT_FLAP_CHANGES,
        }
    }
}

/// An outage back within 30 min of its resolution is the same trouble: one incident.
pub const DEFAULT_REOPEN_WITHIN: Duration = Duration::from_secs(30 * 60);
/// 6 changes (three outages) in 10 min is flapping, not news for every change.
pub const DEFAULT_FLAP_WINDOW: Duration = Duration::from_secs(10 * 60);
pub const DEFAULT_FLAP_CHANGES: u32 = 6;
/// Subscribers get at most one mail per incident per 10 min; later updates are gathered.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// One `[[monitor]]`, fully parsed.
#[derive(Debug, Clone)]
pub struct MonitorSpec {
    pub id: MonitorId,
    pub name: String,
    pub group: Option<String>,
    pub schedule: Schedule,
    pub timeout: Duration,
    /// A successful check slower than this counts as degraded.
    pub degraded_after: Option<Duration>,
    pub thresholds: Thresholds,
    pub watch: Watch,
    /// `[incidents] reopen_within`, the same for every monitor: an outage back within this
    /// long of the resolution of its automatic incident reopens it (zero: never).
    pub reopen_within: Duration,
}

/// How a monitor learns about its site.
#[derive(Debug, Clone)]
pub enum Watch {
    /// We check it, with a probe of its kind.
    Probe(Arc<dyn Probe>),
    /// A background job pings us.
    Heartbeat(HeartbeatSpec),
}

/// How the monitors of two configs differ, by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonitorChanges {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

pub fn diff_monitors(old: &Config, new: &Config) -> MonitorChanges {
    let before: std::collections::HashMap<&str, String> = old
        .monitors
        .iter()
        .map(|m| (m.id.as_str(), format!("{m:?}")))
        .collect();
    let mut changes = MonitorChanges::default();
    for m in &new.monitors {
        match before.get(m.id.as_str()) {
            None => changes.added += 1,
            Some(spec) if *spec != format!("{m:?}") => changes.changed += 1,
            Some(_) => {}
        }
    }
    let kept = new
        .monitors
        .iter()
        .filter(|m| before.contains_key(m.id.as_str()))
        .count();
    changes.removed = old.monitors.len() - kept;
    changes
}

impl MonitorSpec {
    pub fn kind(&self) -> &'static str {
        match &self.watch {
            Watch::Probe(probe) => probe.kind(),
            Watch::Heartbeat(_) => "heartbeat",
        }
    }

    /// What is checked, for people.
    pub fn target(&self) -> String {
        match &self.watch {
            Watch::Probe(probe) => probe.target(),
            Watch::Heartbeat(hb) => hb.target(),
        }
    }

    /// Its probe; `None` for a heartbeat.
    pub fn probe(&self) -> Option<&dyn Probe> {
        match &self.watch {
            Watch::Probe(probe) => Some(probe.as_ref()),
            Watch::Heartbeat(_) => None,
        }
    }

    /// Its heartbeat; `None` for a probed monitor.
    pub fn heartbeat(&self) -> Option<&HeartbeatSpec> {
        match &self.watch {
            Watch::Heartbeat(hb) => Some(hb),
            Watch::Probe(_) => None,
        }
    }

    /// What the database and the page keep of it.
    pub fn info(&self) -> MonitorInfo {
        MonitorInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            group: self.group.clone(),
            kind: self.kind(),
            target: self.target(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectivityConfig {
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Absolute links in feeds, e-mails and exports start with this.
    pub base_url: Url,
    /// Where the database lives; relative paths are relative to the config file.
    pub data_dir: PathBuf,
    /// At most this many probes run at once.
    pub max_concurrent_checks: usize,
    /// Only connections from these networks may name the client in `X-Forwarded-For` or
    /// `Forwarded` (a reverse proxy in front).
    pub trusted_proxies: Vec<IpNet>,
    /// Open connections at most (`None`: derived from the open-files limit at start).
    pub max_connections: Option<usize>,
    /// Open connections one client address may hold at once (trusted proxies excepted).
    pub max_connections_per_client: usize,
}

#[derive(Debug, Clone)]
pub struct PageConfig {
    pub title: String,
    pub description: String,
    /// For display only; storage is UTC.
    pub timezone: Tz,
    /// Days of uptime bars on the page.
    pub history_days: u32,
    /// The sign-up page for e-mail updates (absolute: static copies link to the server), when
    /// `[subscribers] email = true`.
    pub subscribe_url: Option<String>,
    /// Origins that may show `/embed` in a frame (`[page] embed_origins`); empty: any.
    pub embed_origins: Vec<String>,
}

#[derive(Clone, Default)]
pub struct AdminConfig {
    pub username: String,
    /// SHA-256 of the API bearer token.
    pub token_sha256: Option<[u8; 32]>,
    /// Argon2id PHC string for the web login.
    pub password_hash: Option<String>,
}

impl std::fmt::Debug for AdminConfig {
    /// Never prints secrets, not even their hashes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("username", &self.username)
            .field("token_sha256", &self.token_sha256.map(|_| "<set>"))
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<set>"),
            )
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Raw check rows older than this are deleted; buckets stay.
    pub raw_checks: Duration,
}

impl Config {
    /// The page's absolute base URL without a trailing slash, for feeds, mails and the API.
    pub fn base_url(&self) -> String {
        self.server
            .base_url
            .as_str()
            .trim_end_matches('/')
            .to_string()
    }

    /// Reads and checks a config file, taking secrets from the process environment.
    pub fn load(path: &Path) -> Result<Self, ConfigErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                " (copy config.example.toml to start: cp config.example.toml config.toml)"
            } else {
                ""
            };
            ConfigErrors::single(path, format!("cannot read the config file: {e}{hint}"))
        })?;
        Self::parse(&text, path, &|key| std::env::var(key).ok())
    }

    /// Parses config text; `env` looks up environment variables (injected for tests).
    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigErrors> {
        validate::parse(text, path, env)
    }

    /// The `[reminders]` that reach someone: none when no channel hears `reminder` (channels
    /// that post in public never do).
    pub fn reminders_heard(&self) -> reminder::Settings {
        let heard = self
            .notify
            .channels
            .iter()
            .any(|c| c.events.contains(&EventKind::Reminder) && !c.kind.is_public());
        if heard {
            self.reminders
        } else {
            reminder::Settings::default()
        }
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.server.data_dir.join("signalfire.db")
    }
}
