//! The `tcp` kind: a connection to `host:port` opens within the timeout (a mail server's
//! port 587, a database).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::BoxFuture;
use serde::Deserialize;

use super::resolve::lookup;
use super::{Kind, Probe, Tools, errors};
use crate::domain::check::CheckResult;
use crate::domain::duration::format_duration;
use crate::keys::{Collector, MonitorTable, Number, Text, host, port};

pub const KIND: Kind = Kind {
    name: "tcp",
    keys: KEYS,
    parse,
};

const KEYS: &[&str] = &["host", "port"];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TcpKeys {
    host: Text,
    port: Number,
}

/// A TCP connect check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpProbe {
    pub host: String,
    pub port: u16,
}

fn parse(table: &MonitorTable<'_>, c: &mut Collector<'_>) -> Option<Arc<dyn Probe>> {
    let keys: TcpKeys = table.keys(c)?;
    let host = host(c, table.span(), &keys.host, "tcp");
    let port = port(
        c,
        table.span(),
        &keys.port,
        "a tcp monitor needs port = 587 (1 to 65535)",
    );
    Some(Arc::new(TcpProbe {
        host: host?,
        port: port?,
    }))
}

impl Probe for TcpProbe {
    fn kind(&self) -> &'static str {
        "tcp"
    }

    fn target(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    fn check<'a>(&'a self, _: &'a Tools, timeout: Duration) -> BoxFuture<'a, CheckResult> {
        Box::pin(check(self, timeout))
    }
}

async fn check(probe: &TcpProbe, timeout: Duration) -> CheckResult {
    let at = Utc::now();
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, open(&probe.host, probe.port)).await;
    let elapsed = started.elapsed();
    match outcome {
        Ok(Ok(_stream)) => CheckResult::up(at, elapsed),
        Ok(Err(reason)) => CheckResult::down(at, elapsed, reason),
        Err(_) => CheckResult::down(
            at,
            elapsed,
            format!("timed out after {}", format_duration(timeout)),
        ),
    }
}

/// A connection to `host:port`, or the few words that say why none opened.
pub(super) async fn open(host: &str, port: u16) -> Result<tokio::net::TcpStream, String> {
    let addresses = lookup(host, port).await.map_err(|e| e.to_string())?;
    tokio::net::TcpStream::connect(&addresses[..])
        .await
        .map_err(|e| errors::describe_io(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_list_matches_the_keys_read() {
        crate::probe::tests::assert_keys_match::<TcpKeys>(KEYS);
    }
}
