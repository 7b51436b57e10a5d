//! Periodic upkeep: retention of raw checks and hourly buckets. Plain functions, called by the
//! scheduler and directly by tests.

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use crate::db::{checks, incidents, uptime};
use crate::domain::uptime::hour_key;
use crate::incidents::maintenance;
use crate::state::AppState;

/// Rows deleted per transaction, so the poller and the page never wait long for the writer.
const DELETE_BATCH: usize = 2_000;
/// Hourly buckets are kept this many days; daily buckets forever.
pub const HOURLY_RETENTION_DAYS: i64 = 90;

/// What one retention pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub checks_deleted: usize,
    pub hours_deleted: usize,
}

/// Runs every housekeeping task, logging failures.
pub async fn run(state: &AppState) {
    match apply_retention(state, Utc::now()).await {
        Ok(r) => tracing::info!(
            checks = r.checks_deleted,
            hourly_buckets = r.hours_deleted,
            "retention done"
        ),
        Err(e) => tracing::error!(error = format!("{e:#}"), "retention failed"),
    }
}

/// Deletes raw checks older than `retention.raw_checks` and hourly buckets older than
/// [`HOURLY_RETENTION_DAYS`], in small batches.
pub async fn apply_retention(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Retention> {
    let keep = ChronoDuration::from_std(state.config.retention.raw_checks)?;
    let cutoff = now
        .checked_sub_signed(keep)
        .ok_or_else(|| anyhow::anyhow!("retention.raw_checks reaches before the calendar"))?;
    let mut report = Retention::default();
    loop {
        let ids = state
            .db
            .read(move |c| Ok(checks::ids_older_than(c, cutoff, DELETE_BATCH)?))
            .await?;
        if ids.is_empty() {
            break;
        }
        let batch = ids.len();
        report.checks_deleted += state
            .db
            .write(move |tx| Ok(checks::delete_ids(tx, &ids)?))
            .await?;
        if batch < DELETE_BATCH {
            break;
        }
        tokio::task::yield_now().await;
    }
    let first_hour = hour_key(now - ChronoDuration::days(HOURLY_RETENTION_DAYS));
    report.hours_deleted = state
        .db
        .write(move |tx| Ok(uptime::delete_hours_before(tx, first_hour)?))
        .await?;
    state.db.maintain().await?;
    Ok(report)
}

/// Starts and ends maintenance windows whose time has come (called every few seconds).
/// Reads first, so the writer is taken only when something is due.
pub async fn advance_maintenances(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let due = state
        .db
        .read(move |c| Ok(incidents::maintenance_due(c, now)?))
        .await?;
    if !due {
        return Ok(false);
    }
    let changed = state
        .db
        .write(move |tx| Ok(maintenance::advance(tx, now)?))
        .await?;
    if changed {
        state.cache.invalidate();
    }
    Ok(changed)
}
