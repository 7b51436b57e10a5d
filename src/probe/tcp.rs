//! The tcp probe: a connection opens within the timeout.

use std::time::{Duration, Instant};

use chrono::Utc;

use super::errors;
use crate::domain::check::CheckResult;
use crate::domain::duration::format_duration;
use crate::domain::monitor::TcpProbe;

pub async fn check(probe: &TcpProbe, timeout: Duration) -> CheckResult {
    let at = Utc::now();
    let started = Instant::now();
    let connect = tokio::net::TcpStream::connect((probe.host.as_str(), probe.port));
    let outcome = tokio::time::timeout(timeout, connect).await;
    let elapsed = started.elapsed();
    match outcome {
        Ok(Ok(_stream)) => CheckResult::up(at, elapsed),
        Ok(Err(e)) => CheckResult::down(
            at,
            elapsed,
            errors::describe_io(&e).unwrap_or_else(|| e.to_string()),
        ),
        Err(_) => CheckResult::down(
            at,
            elapsed,
            format!("timed out after {}", format_duration(timeout)),
        ),
    }
}
