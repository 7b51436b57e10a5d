//! Periodic upkeep: retention of raw checks and hourly buckets, moving maintenance windows and
//! sending owner reminders on the clock. Plain methods, called by the scheduler and directly by
//! tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use crate::db::{Db, checks, incidents, outbox, pings, subscribers, uptime};
use crate::domain::clock::Clock;
use crate::domain::reminder;
use crate::domain::uptime::hour_key;
use crate::events::{Event, Subscriber};
use crate::incidents::{maintenance, reminders};
use crate::writer::Writer;

/// Check ids (so at most this many rows) deleted per transaction, so the poller and the page
/// never wait long for the writer.
const DELETE_BATCH: i64 = 2_000;
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

/// The next time a maintenance starts or ends, as last read, valid until a maintenance
/// changes (a subscriber of the change stream).
#[derive(Default)]
pub struct MaintenanceWindows {
    /// Bumped by every change to a maintenance.
    generation: AtomicU64,
    /// `(generation, next start or end)` as last read.
    known: Mutex<Option<(u64, Option<DateTime<Utc>>)>>,
    /// Wakes the maintenance timer when a maintenance changed.
    changed: tokio::sync::Notify,
}

impl MaintenanceWindows {
    /// How long nothing can be due from `now`: until the next start or end as last read, if
    /// no maintenance changed since (`Some(None)`: none is planned). `None`: unknown or
    /// overdue, look again soon.
    fn quiet_for(&self, now: DateTime<Utc>) -> Option<Option<Duration>> {
        let generation = self.generation.load(Ordering::Acquire);
        let known = *self.known.lock().unwrap_or_else(|p| p.into_inner());
        match known {
            Some((g, None)) if g == generation => Some(None),
            // A start or end already past: it was not moved on (a failed read or write).
            Some((g, Some(at))) if g == generation => (at - now).to_std().ok().map(Some),
            _ => None,
        }
    }

    /// `None` when nothing can be due at `now`; else the generation to remember a read with.
    fn read_needed(&self, now: DateTime<Utc>) -> Option<u64> {
        let generation = self.generation.load(Ordering::Acquire);
        let known = *self.known.lock().unwrap_or_else(|p| p.into_inner());
        match known {
            Some((g, next)) if g == generation && next.is_none_or(|at| now < at) => None,
            _ => Some(generation),
        }
    }

    fn remember(&self, generation: u64, next: Option<DateTime<Utc>>) {
        *self.known.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, next));
    }
}

impl Subscriber for MaintenanceWindows {
    fn notify(&self, events: &[Event]) {
        if events.iter().any(|e| {
            matches!(
                e,
                Event::MaintenanceChanged { .. }
                    | Event::IncidentDeleted { .. }
                    | Event::IncidentEdited { .. }
                    | Event::IncidentUpdated { .. }
            )
        }) {
            self.generation.fetch_add(1, Ordering::AcqRel);
            self.changed.notify_one();
        }
    }
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
    /// The next maintenance start or end, as last read.
    windows: Arc<MaintenanceWindows>,
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
            windows: Arc::default(),
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
        // The cut-off id by a binary search on the primary key, then bounded id ranges: no
        // read of the whole table (it has no index on time), no writer job longer than a batch.
        let (range, last_old) = self
            .db
            .read(move |c| Ok((checks::id_range(c)?, checks::last_id_before(c, cutoff)?)))
            .await?;
        if let (Some((first, _)), Some(last_old)) = (range, last_old) {
            let mut after = first - 1;
            while after < last_old {
                let up_to = after.saturating_add(DELETE_BATCH).min(last_old);
                report.checks_deleted += self
                    .writer
                    .run(move |tx| Ok(checks::delete_range(tx, after, up_to, cutoff)?))
                    .await?;
                after = up_to;
                tokio::task::yield_now().await;
            }
        }
        let first_hour = hour_key(now - ChronoDuration::days(HOURLY_RETENTION_DAYS));
        report.hours_deleted = self
            .writer
            .run(move |tx| Ok(uptime::delete_hours_before(tx, first_hour)?))
            .await?;
        let old_deliveries = now - ChronoDuration::days(DELIVERY_RETENTION_DAYS);
        report.deliveries_deleted = self
            .writer
            .run(move |tx| {
                // The pacing of streams quiet for as long goes with their deliveries.
                crate::db::pacing::prune(tx, old_deliveries)?;
                Ok(outbox::prune(tx, old_deliveries)?)
            })
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

    /// Starts and ends maintenance windows whose time has come (called by the maintenance
    /// timer, and by `Scheduler::run_due` in tests).
    /// Until the next start or end it knows of, or a change to a maintenance, it reads
    /// nothing; then it reads first, so the writer is taken only when something is due.
    pub async fn advance_maintenances(&self, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let Some(generation) = self.windows.read_needed(now) else {
            return Ok(false);
        };
        let (due, next) = self
            .db
            .read(move |c| {
                Ok((
                    incidents::maintenance_due(c, now)?,
                    incidents::next_maintenance_boundary(c)?,
                ))
            })
            .await?;
        if !due {
            self.windows.remember(generation, next);
            return Ok(false);
        }
        self.writer
            .run(move |tx| Ok(maintenance::advance(tx, now)?))
            .await
    }

    /// Starts and ends maintenance windows on time, until `stop`: sleeps until the next start
    /// or end it knows of, or until a maintenance changes, and looks at least once a minute
    /// (the wall clock may have jumped). Replaces a poll every two seconds, which woke an idle
    /// server 30 times a minute.
    pub async fn run_maintenance_timer(self, stop: tokio_util::sync::CancellationToken) {
        const LOOK_AT_LEAST_EVERY: Duration = Duration::from_secs(60);
        loop {
            let changed = self.windows.changed.notified();
            let now = self.clock.now();
            if let Err(e) = self.advance_maintenances(now).await {
                tracing::error!(
                    error = format!("{e:#}"),
                    "advancing maintenance windows failed"
                );
            }
            let wait = match self.windows.quiet_for(self.clock.now()) {
                Some(Some(left)) => left.min(LOOK_AT_LEAST_EVERY),
                Some(None) => LOOK_AT_LEAST_EVERY,
                // Not read (the database was busy, or it failed): try again soon.
                None => Duration::from_secs(2),
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = changed => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Hears of maintenance changes, so the next start or end is read again.
    pub fn maintenance_watch(&self) -> Arc<MaintenanceWindows> {
        self.windows.clone()
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
