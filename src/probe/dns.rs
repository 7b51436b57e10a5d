//! The `dns` kind: the name resolves (A and AAAA), to an expected address when given.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::BoxFuture;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use serde::Deserialize;
use toml::Spanned;

use super::{Kind, Probe, Tools};
use crate::domain::check::CheckResult;
use crate::domain::duration::format_duration;
use crate::keys::{Collector, MonitorTable, Text, host};

pub const KIND: Kind = Kind {
    name: "dns",
    keys: KEYS,
    parse,
};

const KEYS: &[&str] = &["host", "expect_address", "resolver"];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DnsKeys {
    host: Text,
    expect_address: Option<Spanned<Vec<Spanned<String>>>>,
    resolver: Text,
}

/// A DNS check: the name must resolve, to one of the expected addresses when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsProbe {
    pub host: String,
    pub expect_address: Vec<IpAddr>,
    /// The name server to ask; the system's when `None`.
    pub resolver: Option<SocketAddr>,
}

fn parse(table: &MonitorTable<'_>, c: &mut Collector<'_>) -> Option<Arc<dyn Probe>> {
    let m: DnsKeys = table.keys(c)?;
    let host = host(c, table.span(), &m.host, "dns");
    let mut expect_address = Vec::new();
    for item in m.expect_address.iter().flat_map(|l| l.get_ref()) {
        match item.get_ref().parse::<IpAddr>() {
            Ok(ip) => expect_address.push(ip),
            Err(_) => c.at(
                Some(item.span()),
                format!(
                    "expect_address \"{}\" is not an IP address like \"203.0.113.7\"",
                    item.get_ref()
                ),
            ),
        }
    }
    let resolver = m.resolver.as_ref().and_then(|r| {
        let text = r.get_ref();
        let parsed = text.parse::<SocketAddr>().ok().or_else(|| {
            text.parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        });
        if parsed.is_none() {
            c.at(
                Some(r.span()),
                format!(
                    "resolver \"{text}\" is not an address like \"127.0.0.1:53\" or \"9.9.9.9\""
                ),
            );
        }
        parsed
    });
    Some(Arc::new(DnsProbe {
        host: host?,
        expect_address,
        resolver,
    }))
}

impl Probe for DnsProbe {
    fn kind(&self) -> &'static str {
        "dns"
    }

    fn target(&self) -> String {
        self.host.clone()
    }

    fn prepare(&self, tools: &mut Tools) -> anyhow::Result<()> {
        if let std::collections::hash_map::Entry::Vacant(slot) =
            tools.resolvers.entry(self.resolver)
        {
            slot.insert(resolver(self.resolver)?);
        }
        Ok(())
    }

    fn check<'a>(&'a self, tools: &'a Tools, timeout: Duration) -> BoxFuture<'a, CheckResult> {
        Box::pin(async move {
            match tools.resolvers.get(&self.resolver) {
                Some(resolver) => check(resolver, self, timeout).await,
                None => CheckResult::down(Utc::now(), Duration::ZERO, "no resolver configured"),
            }
        })
    }
}

pub type Resolver = TokioResolver;

/// A resolver asking `server` (or the system's name servers), without a cache: every check
/// asks afresh, so a changed record shows at the next check.
pub fn resolver(server: Option<SocketAddr>) -> anyhow::Result<Resolver> {
    let mut builder = match server {
        None => TokioResolver::builder_tokio()?,
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let mut tcp = ConnectionConfig::tcp();
            tcp.port = addr.port();
            let ns = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
    };
    let options = builder.options_mut();
    options.cache_size = 0;
    options.attempts = 1;
    Ok(builder.build()?)
}

fn list(addresses: &[IpAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn check(resolver: &Resolver, probe: &DnsProbe, timeout: Duration) -> CheckResult {
    let at = Utc::now();
    let started = Instant::now();
    // A fully qualified name, so no search domain is appended.
    let name = if probe.host.ends_with('.') {
        probe.host.clone()
    } else {
        format!("{}.", probe.host)
    };
    let outcome = tokio::time::timeout(timeout, resolver.lookup_ip(name.as_str())).await;
    let elapsed = started.elapsed();
    let found: Vec<IpAddr> = match outcome {
        Err(_) => {
            return CheckResult::down(
                at,
                elapsed,
                format!("DNS timed out after {}", format_duration(timeout)),
            );
        }
        Ok(Err(e)) if e.is_nx_domain() => {
            return CheckResult::down(
                at,
                elapsed,
                format!("NXDOMAIN: {} does not exist", probe.host),
            );
        }
        Ok(Err(e)) if e.is_no_records_found() => {
            return CheckResult::down(
                at,
                elapsed,
                format!("no address records for {}", probe.host),
            );
        }
        // Other resolver errors carry protocol details; people need only this.
        Ok(Err(_)) => return CheckResult::down(at, elapsed, "DNS lookup failed"),
        Ok(Ok(lookup)) => lookup.iter().collect(),
    };
    if probe.expect_address.is_empty() {
        return CheckResult::up(at, elapsed);
    }
    let unexpected: Vec<IpAddr> = found
        .iter()
        .copied()
        .filter(|ip| !probe.expect_address.contains(ip))
        .collect();
    if !unexpected.is_empty() || found.is_empty() {
        return CheckResult::down(
            at,
            elapsed,
            format!(
                "{} resolves to {} (expected {})",
                probe.host,
                list(&found),
                list(&probe.expect_address)
            ),
        );
    }
    CheckResult::up(at, elapsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_list_matches_the_keys_read() {
        crate::probe::tests::assert_keys_match::<DnsKeys>(KEYS);
    }
}
