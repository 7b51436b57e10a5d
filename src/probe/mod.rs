//! Probes: run one check of a monitor and describe what happened. A probe never returns an
//! error — every failure is a [`CheckResult`] with a short human reason.

mod dns;
mod errors;
mod http;
mod tcp;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

use crate::domain::check::CheckResult;
use crate::domain::monitor::{HttpProbe, MonitorSpec, ProbeSpec};

/// How many redirects an http check follows before calling it a loop.
pub const MAX_REDIRECTS: usize = 10;

/// HTTP clients differ only in these; one client per combination, built once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    follow_redirects: bool,
    tls_verify: bool,
    tls_ca_file: Option<PathBuf>,
}

impl ClientKey {
    fn of(http: &HttpProbe) -> Self {
        Self {
            follow_redirects: http.follow_redirects,
            tls_verify: http.tls_verify,
            tls_ca_file: http.tls_ca_file.clone(),
        }
    }
}

/// Runs checks with shared clients (connections are reused across checks) and resolvers.
#[derive(Clone)]
pub struct Prober {
    clients: HashMap<ClientKey, reqwest::Client>,
    resolvers: HashMap<Option<SocketAddr>, dns::Resolver>,
}

fn build_client(key: &ClientKey) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!(
            "signalfire/",
            env!("CARGO_PKG_VERSION"),
            " (status checker)"
        ))
        .redirect(http::redirect_policy(key.follow_redirects))
        .tls_info(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .tls_danger_accept_invalid_certs(!key.tls_verify);
    if let Some(path) = &key.tls_ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("cannot read tls_ca_file {}", path.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).with_context(|| {
            format!("tls_ca_file {} holds no usable certificate", path.display())
        })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().context("cannot build the HTTP client")
}

impl Prober {
    /// Builds the clients and resolvers `monitors` need. Needs a rustls crypto provider.
    pub fn new(monitors: &[MonitorSpec]) -> anyhow::Result<Self> {
        let default_key = ClientKey {
            follow_redirects: true,
            tls_verify: true,
            tls_ca_file: None,
        };
        let mut clients = HashMap::new();
        clients.insert(default_key.clone(), build_client(&default_key)?);
        let mut resolvers = HashMap::new();
        for spec in monitors {
            match &spec.probe {
                ProbeSpec::Http(http) => {
                    let key = ClientKey::of(http);
                    if let Entry::Vacant(slot) = clients.entry(key) {
                        let client = build_client(slot.key())?;
                        slot.insert(client);
                    }
                }
                ProbeSpec::Dns(d) => {
                    if let Entry::Vacant(slot) = resolvers.entry(d.resolver) {
                        slot.insert(dns::resolver(d.resolver)?);
                    }
                }
                ProbeSpec::Tcp(_) | ProbeSpec::Heartbeat(_) => {}
            }
        }
        Ok(Self { clients, resolvers })
    }

    /// Checks a monitor once. Heartbeats are not probed (they ping us): `None`.
    pub async fn check(&self, spec: &MonitorSpec) -> Option<CheckResult> {
        let result = match &spec.probe {
            ProbeSpec::Http(probe) => {
                let client = self.clients.get(&ClientKey::of(probe))?;
                http::check(client, probe, spec.timeout).await
            }
            ProbeSpec::Tcp(probe) => tcp::check(probe, spec.timeout).await,
            ProbeSpec::Dns(probe) => match self.resolvers.get(&probe.resolver) {
                Some(resolver) => dns::check(resolver, probe, spec.timeout).await,
                None => CheckResult::down(Utc::now(), Duration::ZERO, "no resolver configured"),
            },
            ProbeSpec::Heartbeat(_) => return None,
        };
        Some(result.with_slowness(spec.degraded_after))
    }

    /// True when a TCP connection to `host:port` opens within `timeout` (the connectivity guard).
    pub async fn can_connect(host: &str, port: u16, timeout: Duration) -> bool {
        matches!(
            tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host, port))).await,
            Ok(Ok(_))
        )
    }
}
