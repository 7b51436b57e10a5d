//! Watching monitors: check a site with its probe (or judge a heartbeat's deadline, or take a
//! ping), then write the result in one job on the writer — check row, uptime buckets, the
//! state machine, the incident policy — whose events go out on the change stream.

pub mod heartbeat;
mod record;

pub use record::record;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::{MonitorSpec, Watch};
use crate::connectivity::Connectivity;
use crate::domain::check::{CheckResult, Verdict};
use crate::domain::clock::Clock;
use crate::domain::duration::format_span;
use crate::domain::status::{Change, Health};
use crate::probe::Prober;
use crate::writer::Writer;

/// A configured monitor and its database row.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub spec: MonitorSpec,
    pub row: i64,
}

/// The configured monitors, in page order.
#[derive(Debug, Clone, Default)]
pub struct Roster {
    monitors: Vec<Arc<Monitor>>,
}

impl Roster {
    pub fn new(monitors: Vec<Arc<Monitor>>) -> Self {
        Self { monitors }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Monitor>> {
        self.monitors.iter()
    }

    pub fn len(&self) -> usize {
        self.monitors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.monitors.is_empty()
    }

    /// The monitor with this id.
    pub fn get(&self, key: &str) -> Option<&Arc<Monitor>> {
        self.monitors.iter().find(|m| m.spec.id.as_str() == key)
    }

    /// The heartbeat monitor whose token this is. Every token is compared, in constant time.
    pub fn heartbeat_by_token(&self, token: &str) -> Option<Arc<Monitor>> {
        use sha2::{Digest, Sha256};
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for monitor in &self.monitors {
            if let Watch::Heartbeat(hb) = &monitor.spec.watch
                && crate::auth::same_secret(&hb.token_sha256, &digest)
            {
                found = Some(monitor.clone());
            }
        }
        found
    }
}

/// Runs checks and applies their results. Cheap to clone.
#[derive(Clone)]
pub struct Checker {
    writer: Writer,
    prober: Prober,
    connectivity: Arc<Connectivity>,
    clock: Arc<dyn Clock>,
    /// When this server started: a heartbeat without a ping yet counts its grace from here.
    started_at: DateTime<Utc>,
    /// The ping queue, once started: deadlines wait for the pings answered before them. Weak:
    /// the queue's own task holds a checker, and must not keep its own queue open.
    pings: Arc<std::sync::OnceLock<tokio::sync::mpsc::WeakSender<heartbeat::Job>>>,
}

impl Checker {
    pub fn new(
        writer: Writer,
        prober: Prober,
        connectivity: Arc<Connectivity>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let started_at = clock.now();
        Self {
            writer,
            prober,
            connectivity,
            clock,
            started_at,
            pings: Arc::default(),
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Checks a monitor once — a heartbeat: judges its deadline — and applies the result.
    /// A failure while the connectivity guard fails too is not recorded: the checker is offline.
    pub async fn run_check(&self, monitor: &Arc<Monitor>) -> anyhow::Result<Option<Change>> {
        let probe = match &monitor.spec.watch {
            Watch::Heartbeat(spec) => return heartbeat::deadline(self, monitor, spec).await,
            Watch::Probe(probe) => probe.clone(),
        };
        let spec = &monitor.spec;
        let started = self.clock.now();
        let mut result = self
            .prober
            .check(probe.as_ref(), spec.timeout, spec.degraded_after)
            .await;
        // Probes time themselves with the wall clock; the result is dated by ours.
        result.at = started;
        if result.verdict == Verdict::Down {
            if !self.connectivity.check().await {
                return Ok(None);
            }
        } else {
            self.connectivity.note_online().await;
        }
        self.apply(monitor, result).await
    }

    /// Records a result and runs the incident policy when the monitor's health changes.
    pub async fn apply(
        &self,
        monitor: &Arc<Monitor>,
        result: CheckResult,
    ) -> anyhow::Result<Option<Change>> {
        let job_monitor = monitor.clone();
        let reason = result.reason.clone();
        let at = result.at;
        let change = self
            .writer
            .run(move |tx| Ok(record::record(tx, &job_monitor, &result)?))
            .await?;
        if let Some(change) = &change {
            log_change(monitor, change, reason.as_deref(), at);
        }
        Ok(change)
    }
}

fn log_change(monitor: &Monitor, change: &Change, reason: Option<&str>, at: DateTime<Utc>) {
    let id = &monitor.spec.id;
    match change.to {
        Health::Down => {
            tracing::warn!(monitor = %id, reason = reason.unwrap_or(""), "monitor is down")
        }
        Health::Up if change.from == Health::Down => {
            let down_for = change
                .previous_since
                .map(|s| format_span((at - s).to_std().unwrap_or_default()));
            tracing::info!(monitor = %id, down_for = down_for.as_deref().unwrap_or("?"), "monitor is up again");
        }
        to => {
            tracing::info!(monitor = %id, from = change.from.as_str(), to = to.as_str(), "monitor changed")
        }
    }
}
