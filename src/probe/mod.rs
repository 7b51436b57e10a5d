//! Check kinds. Each kind is one module that implements [`Probe`] and reads its own config
//! keys; [`KINDS`] registers it. A probe never returns an error — every failure is a
//! [`CheckResult`] with a short human reason.
//!
//! Adding a kind: its module here (a `Kind` with its name, keys and parser, and the `Probe`
//! it parses into), one line in [`KINDS`], and its tests.

pub mod dns;
mod errors;
pub mod http;
mod resolve;
pub mod smtp;
pub mod tcp;
mod tls;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::domain::check::CheckResult;
use crate::keys::{Collector, MonitorTable};

/// One configured check of some kind: what it probes, and how.
pub trait Probe: fmt::Debug + Send + Sync {
    /// The kind's name, as in `kind = "http"`.
    fn kind(&self) -> &'static str;

    /// What is probed, for people: a URL, `host:port`, a host name. It appears on the public
    /// page and in feeds, so it carries no credentials or query strings.
    fn target(&self) -> String;

    /// Adds the shared clients this probe needs, once, before the first check.
    fn prepare(&self, _tools: &mut Tools) -> anyhow::Result<()> {
        Ok(())
    }

    /// Checks once, within `timeout`.
    fn check<'a>(&'a self, tools: &'a Tools, timeout: Duration) -> BoxFuture<'a, CheckResult>;
}

/// A check kind: its name in `kind = "…"`, the keys it takes besides the common ones, and the
/// parser that turns a `[[monitor]]` table into its [`Probe`] (reporting every problem).
pub struct Kind {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub parse: fn(&MonitorTable<'_>, &mut Collector<'_>) -> Option<Arc<dyn Probe>>,
}

/// Every check kind, the default (`http`) first.
pub const KINDS: &[Kind] = &[http::KIND, tcp::KIND, dns::KIND, smtp::KIND];

/// The kind named `name`.
pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Clients shared by every check (connections are reused across checks), built once.
#[derive(Default)]
pub struct Tools {
    http: HashMap<http::ClientKey, reqwest::Client>,
    resolvers: HashMap<Option<SocketAddr>, dns::Resolver>,
    /// Certificate verifiers of the kinds that speak TLS themselves, by `tls_ca_file`.
    verifiers: HashMap<Option<PathBuf>, tls::Verifier>,
}

/// Runs checks with the shared [`Tools`].
#[derive(Clone)]
pub struct Prober {
    tools: Arc<Tools>,
}

impl Prober {
    /// Builds what `probes` need. Needs a rustls crypto provider installed.
    pub fn new<'a>(probes: impl IntoIterator<Item = &'a dyn Probe>) -> anyhow::Result<Self> {
        let mut tools = Tools::default();
        for probe in probes {
            probe.prepare(&mut tools)?;
        }
        Ok(Self {
            tools: Arc::new(tools),
        })
    }

    /// Checks once; a good answer slower than `degraded_after` is degraded.
    pub async fn check(
        &self,
        probe: &dyn Probe,
        timeout: Duration,
        degraded_after: Option<Duration>,
    ) -> CheckResult {
        probe
            .check(&self.tools, timeout)
            .await
            .with_slowness(degraded_after)
    }

    /// True when a TCP connection to `host:port` opens within `timeout` (the connectivity guard).
    pub async fn can_connect(host: &str, port: u16, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await,
            Ok(Ok(_))
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Values tried for a key, until one is of the type its kind reads.
    const SAMPLES: &[&str] = &["\"x\"", "1", "true", "[\"x\"]", "[200]", "{ a = \"b\" }"];

    /// Every key in a kind's list is read by its keys struct (none would be reported unknown).
    pub(crate) fn assert_keys_match<T: serde::de::DeserializeOwned>(keys: &[&str]) {
        for key in keys {
            let read = SAMPLES.iter().any(|sample| {
                let doc = format!("{key} = {sample}\n");
                let Ok(table) = toml::de::DeTable::parse(&doc) else {
                    return false;
                };
                let mut ignored = Vec::new();
                let de = toml::Deserializer::from(table);
                serde_ignored::deserialize::<_, _, T>(de, |p| ignored.push(p.to_string())).is_ok()
                    && ignored.is_empty()
            });
            assert!(read, "{key} is listed but not read");
        }
    }

    #[test]
    fn every_kind_has_its_own_name_and_no_common_keys() {
        let mut names: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KINDS.len());
        for kind in KINDS {
            for common in ["id", "name", "group", "kind", "interval", "cron", "timeout"] {
                assert!(!kind.keys.contains(&common), "{} takes {common}", kind.name);
            }
        }
    }
}
