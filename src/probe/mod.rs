//! Probes: run one check of a monitor and describe what happened. A probe never returns an
//! error — every failure is a [`CheckResult`] with a short human reason.

mod errors;
mod http;

use std::time::Duration;

use crate::domain::check::CheckResult;
use crate::domain::monitor::{MonitorSpec, ProbeSpec};

/// How many redirects an http check follows before calling it a loop.
pub const MAX_REDIRECTS: usize = 10;
/// The most of a body an http check reads; keyword search streams through it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Runs checks with one shared HTTP client (connection reuse across checks).
#[derive(Clone)]
pub struct Prober {
    client: reqwest::Client,
}

impl Prober {
    /// Builds the shared client. Needs a rustls crypto provider installed first.
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "signalfire/",
                env!("CARGO_PKG_VERSION"),
                " (status checker)"
            ))
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .tls_info(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Self { client })
    }

    /// Checks a monitor once.
    pub async fn check(&self, spec: &MonitorSpec) -> CheckResult {
        let result = match &spec.probe {
            ProbeSpec::Http(http) => http::check(&self.client, http, spec.timeout).await,
        };
        result.with_slowness(spec.degraded_after)
    }
}
