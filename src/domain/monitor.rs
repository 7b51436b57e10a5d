//! What a monitor is: a stable id, a name, a schedule and what to probe.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// A monitor's stable key: `[a-z0-9-]+`, used in URLs, the API and the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorId(String);

/// The longest id we accept; ids appear in URLs and file names.
const MAX_ID_LEN: usize = 64;

impl MonitorId {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() || text.len() > MAX_ID_LEN {
            return Err(format!(
                "id \"{text}\" must be 1 to {MAX_ID_LEN} characters of a-z, 0-9 and -"
            ));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(format!(
                "id \"{text}\" contains '{bad}'; use only a-z, 0-9 and - (e.g. \"proof-galleries\")"
            ));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MonitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// When a monitor runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every fixed duration, from the timer queue.
    Every(Duration),
    /// A 6-field cron expression (seconds first), from the cron scheduler.
    Cron(String),
}

/// How many results in a row change the verdict (they stop flapping from reaching the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Consecutive failed checks before the monitor is down.
    pub failures_before_down: u32,
    /// Consecutive good checks before a down monitor is up again.
    pub successes_before_up: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            failures_before_down: 3,
            successes_before_up: 2,
        }
    }
}

/// Which HTTP status codes count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusMatcher {
    /// Any 2xx or 3xx after redirects.
    SuccessOrRedirect,
    /// One of these inclusive ranges.
    Ranges(Vec<(u16, u16)>),
}

impl StatusMatcher {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            Self::SuccessOrRedirect => (200..400).contains(&status),
            Self::Ranges(ranges) => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&status)),
        }
    }
}

/// An HTTP(S) check.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpProbe {
    pub url: Url,
    /// GET, HEAD, POST, …
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub expect_status: StatusMatcher,
    /// A keyword that must appear in the body.
    pub expect_body: Option<String>,
    /// Text that must not appear (an error page's words).
    pub expect_body_absent: Option<String>,
    pub follow_redirects: bool,
    /// Off only for hosts whose certificate cannot be trusted on purpose.
    pub tls_verify: bool,
    /// An extra CA (PEM) to trust besides the system roots.
    pub tls_ca_file: Option<PathBuf>,
    /// Degraded when the certificate expires sooner than this.
    pub tls_expiry_warn: Option<Duration>,
    /// The most of the body a check reads.
    pub max_body: usize,
}

/// A TCP connect check (a mail server's port 587, a database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpProbe {
    pub host: String,
    pub port: u16,
}

/// A DNS check: the name must resolve, to one of the expected addresses when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsProbe {
    pub host: String,
    pub expect_address: Vec<IpAddr>,
    /// The name server to ask; the system's when `None`.
    pub resolver: Option<SocketAddr>,
}

/// A background job that pings us after every run; down when no ping came within `grace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatSpec {
    pub grace: Duration,
    /// SHA-256 of the ping token in the URL `/ping/{token}`.
    pub token_sha256: [u8; 32],
}

/// What a monitor probes.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeSpec {
    /// Boxed: the http settings are much larger than the other kinds'.
    Http(Box<HttpProbe>),
    Tcp(TcpProbe),
    Dns(DnsProbe),
    Heartbeat(HeartbeatSpec),
}

impl ProbeSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Http(_) => "http",
            Self::Tcp(_) => "tcp",
            Self::Dns(_) => "dns",
            Self::Heartbeat(_) => "heartbeat",
        }
    }

    /// What is probed, for people: a URL, `host:port`, a host name. It appears on the public
    /// page and in feeds, so a URL loses its user, password and query (where tokens live).
    pub fn target(&self) -> String {
        match self {
            Self::Http(http) => {
                let mut url = http.url.clone();
                let _ = url.set_username("");
                let _ = url.set_password(None);
                url.set_query(None);
                url.set_fragment(None);
                url.to_string()
            }
            Self::Tcp(tcp) => format!("{}:{}", tcp.host, tcp.port),
            Self::Dns(dns) => dns.host.clone(),
            Self::Heartbeat(hb) => format!(
                "heartbeat, grace {}",
                super::duration::format_duration(hb.grace)
            ),
        }
    }
}

/// One monitor from the config, fully parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorSpec {
    pub id: MonitorId,
    pub name: String,
    pub group: Option<String>,
    pub schedule: Schedule,
    pub timeout: Duration,
    /// A successful check slower than this counts as degraded.
    pub degraded_after: Option<Duration>,
    pub thresholds: Thresholds,
    pub probe: ProbeSpec,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_digits_and_dashes() {
        assert!(MonitorId::parse("proof-galleries-2").is_ok());
        assert!(MonitorId::parse("Blog").unwrap_err().contains("'B'"));
        assert!(MonitorId::parse("a b").is_err());
        assert!(MonitorId::parse("").is_err());
        assert!(MonitorId::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn targets_shown_to_people_carry_no_credentials() {
        let url = Url::parse("https://user:secret@example.com/health?token=abc#x").expect("url");
        let probe = ProbeSpec::Http(Box::new(HttpProbe {
            url,
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            expect_status: StatusMatcher::SuccessOrRedirect,
            expect_body: None,
            expect_body_absent: None,
            follow_redirects: true,
            tls_verify: true,
            tls_ca_file: None,
            tls_expiry_warn: None,
            max_body: 1024,
        }));
        assert_eq!(probe.target(), "https://example.com/health");
    }

    #[test]
    fn default_status_matcher_takes_2xx_and_3xx() {
        let m = StatusMatcher::SuccessOrRedirect;
        assert!(m.accepts(200) && m.accepts(204) && m.accepts(302));
        assert!(!m.accepts(404) && !m.accepts(500) && !m.accepts(199));
    }

    #[test]
    fn ranges_are_inclusive() {
        let m = StatusMatcher::Ranges(vec![(200, 200), (401, 403)]);
        assert!(m.accepts(200) && m.accepts(401) && m.accepts(403));
        assert!(!m.accepts(201) && !m.accepts(404));
    }
}
