//! The dns probe: the name resolves (A and AAAA), to an expected address when given.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use chrono::Utc;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;

use crate::domain::check::CheckResult;
use crate::domain::duration::format_duration;
use crate::domain::monitor::DnsProbe;

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
        Ok(Err(e)) => return CheckResult::down(at, elapsed, format!("DNS lookup failed: {e}")),
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
