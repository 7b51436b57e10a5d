//! Periodic upkeep: retention of raw checks and hourly buckets, moving maintenance windows and
//! sending owner reminders on the clock. Plain methods, called by the scheduler and directly by
//! tests.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use crate::db::{Db, checks, incidents, outbox, pings, subscribers, uptime};
use crate::domain::clock::Clock;
use crate::domain::reminder;
use crate::domain::uptime::hour_key;
use crate::incidents::{maintenance, reminders};
use crate::writer::Writer;

/// Rows deleted per transaction, so the poller and the page never wait long for the writer.
const DELETE_BATCH: usize = 2_000;
/// Hourly buckets are kept this many days; daily buckets forever.
pub const HOURLY_RETENTION_DAYS: i64 = 90;
/// Deliveries that ended (sent or given up) are kept this many days, for the owner to look at.
pub const DELIVERY_RETENTION_DAYS: i64 = 30;
/// A subscriber's mail links work this many days (the newest mail's link always does: each
/// mail carries a fresh one).
pub const LINK_RETENTION_DAYS: i64 = 400;
/// A sign-up not confirmed within this many hours is forgotten, address and all.
pub const UNCONFIRMED_RETENTION_HOURS: i64 = 48;

/// What one retention pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub checks_deleted: usize,
    pub hours_deleted: usize,
    pub deliveries_deleted: usize,
    pub links_deleted: usize,
    pub unconfirmed_deleted: usize,
    /// Pings (with the output they carried) of jobs no longer configured.
    pub pings_deleted: usize,
}

/// The upkeep jobs. Cheap to clone.
#[derive(Clone)]
pub struct Housekeeping {
    db: Db,
    writer: Writer,
    clock: Arc<dyn Clock>,
    /// Raw checks older than this are deleted (`retention.raw_checks`).
    keep_raw_checks: Duration,
    /// The owner reminders in force (`[reminders]`; none when no channel hears them).
    reminders: reminder::Settings,
}

impl Housekeeping {
    pub fn new(
        db: Db,
        writer: Writer,
        clock: Arc<dyn Clock>,
        keep_raw_checks: Duration,
        reminders: reminder::Settings,
    ) -> Self {
        Self {
            db,
            writer,
            clock,
            keep_raw_checks,
            reminders,
        }
    }

    /// Runs every hourly task, logging failures.
    pub async fn run(&self) {
        match self.apply_retention(self.clock.now()).await {
            Ok(r) => tracing::info!(
                checks = r.checks_deleted,
                hourly_buckets = r.hours_deleted,
                deliveries = r.deliveries_deleted,
                links = r.links_deleted,
                unconfirmed_subscribers = r.unconfirmed_deleted,
                pings_of_removed_jobs = r.pings_deleted,
                "retention done"
            ),
            Err(e) => tracing::error!(error = format!("{e:#}"), "retention failed"),
        }
    }

    /// Deletes raw checks older than `retention.raw_checks` and hourly buckets older than
    /// [`HOURLY_RETENTION_DAYS`], in small batches. Emits nothing: the pages read buckets.
    pub async fn apply_retention(&self, now: DateTime<Utc>) -> anyhow::Result<Retention> {
        let keep = ChronoDuration::from_std(self.keep_raw_checks)?;
        let cutoff = now
            .checked_sub_signed(keep)
            .ok_or_else(|| anyhow::anyhow!("retention.raw_checks reaches before the calendar"))?;
        let mut report = Retention::default();
        loop {
            let ids = self
                .db
                .read(move |c| Ok(checks::ids_older_than(c, cutoff, DELETE_BATCH)?))
                .await?;
            if ids.is_empty() {
                break;
            }
            let batch = ids.len();
            report.checks_deleted += self
                .writer
                .run(move |tx| Ok(checks::delete_ids(tx, &ids)?))
                .await?;
            if batch < DELETE_BATCH {
                break;
            }
            tokio::task::yield_now().await;
        }
        let first_hour = hour_key(now - ChronoDuration::days(HOURLY_RETENTION_DAYS));
        report.hours_deleted = self
            .writer
            .run(move |tx| Ok(uptime::delete_hours_before(tx, first_hour)?))
            .await?;
        let old_deliveries = now - ChronoDuration::days(DELIVERY_RETENTION_DAYS);
        report.deliveries_deleted = self
            .writer
            .run(move |tx| Ok(outbox::prune(tx, old_deliveries)?))
            .await?;
        let old_links = now - ChronoDuration::days(LINK_RETENTION_DAYS);
        report.links_deleted = self
            .writer
            .run(move |tx| Ok(subscribers::prune_tokens(tx, old_links)?))
            .await?;
        let stale_signups = now - ChronoDuration::hours(UNCONFIRMED_RETENTION_HOURS);
        report.unconfirmed_deleted = self
            .writer
            .run(move |tx| Ok(subscribers::delete_unconfirmed(tx, stale_signups)?))
            .await?;
        report.pings_deleted = self
            .writer
            .run(move |tx| Ok(pings::forget_removed(tx)?))
            .await?;
        self.db.maintain().await?;
        Ok(report)
    }

    /// Starts and ends maintenance windows whose time has come (called every few seconds).
    /// Reads first, so the writer is taken only when something is due.
    pub async fn advance_maintenances(&self, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let due = self
            .db
            .read(move |c| Ok(incidents::maintenance_due(c, now)?))
            .await?;
        if !due {
            return Ok(false);
        }
        self.writer
            .run(move |tx| Ok(maintenance::advance(tx, now)?))
            .await
    }

    /// True when some owner reminder is on (and some channel hears it).
    pub fn reminds(&self) -> bool {
        self.reminders.any()
    }

    /// Sends the owner reminders due at `now` (called every minute); returns how many. Reads
    /// first, so the writer is taken only when one is due; the write judges again, so two
    /// passes never send one twice.
    pub async fn send_reminders(&self, now: DateTime<Utc>) -> anyhow::Result<usize> {
        let settings = self.reminders;
        if !self.reminds() {
            return Ok(0);
        }
        let due = self
            .db
            .read(move |c| Ok(reminders::due(c, &settings, now)?))
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        self.writer
            .run(move |tx| Ok(reminders::send_due(tx, &settings, now)?))
            .await
    }
}
