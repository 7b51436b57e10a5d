//! When checks run. Every monitor — interval or cron line — runs from one timer queue of
//! next-due times by the injected clock; tokio-cron-scheduler runs only the housekeeping jobs
//! (it drops firings when hundreds fall due at once, see DESIGN.md). In tests the queue is
//! driven by hand: [`Scheduler::run_due`] runs what the test clock says is due, and returns
//! when those checks are written.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::domain::clock::Clock;
use crate::domain::monitor::Schedule;
use crate::housekeeping::Housekeeping;
use crate::metrics::Metrics;
use crate::monitoring::{Checker, Monitor, Roster};
use crate::supervisor::{Stage, Supervisor};

/// Housekeeping runs at minute 17 of every hour (off the hour, when other jobs pile up).
const HOUSEKEEPING_CRON: &str = "0 17 * * * *";
/// Owner reminders are looked for once a minute (at second 30, off the other jobs): they are
/// about an hour or a quarter of an hour, so a minute late is on time.
const REMINDER_CRON: &str = "30 * * * * *";
/// The longest the timer sleeps before looking at the clock again.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// When a monitor runs next.
enum Next {
    Every(Duration),
    Cron(Box<croner::Cron>, chrono_tz::Tz),
}

impl Next {
    fn of(schedule: &Schedule) -> Option<Self> {
        match schedule {
            Schedule::Every(every) => Some(*every)
                .filter(|d| !d.is_zero() && chrono::Duration::from_std(*d).is_ok())
                .map(Self::Every),
            Schedule::Cron { line, timezone } => croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Required)
                .build()
                .parse(line)
                .ok()
                .map(|c| Self::Cron(Box::new(c), *timezone)),
        }
    }

    /// The first time after `due` (a slot missed while busy is skipped, not replayed), and
    /// after `now`, in monotonic time. An interval counts on the monotonic clock alone; a
    /// cron line's next time is read on the wall clock (`wall` at `now`) and waited for on
    /// the monotonic one.
    fn after(&self, due: Instant, now: Instant, wall: DateTime<Utc>) -> Option<Instant> {
        match self {
            Self::Every(every) => {
                let mut next = due.checked_add(*every)?;
                if next <= now {
                    let missed = (now - next).as_nanos() / every.as_nanos() + 1;
                    next = next.checked_add(every.checked_mul(u32::try_from(missed).ok()?)?)?;
                }
                Some(next)
            }
            Self::Cron(cron, timezone) => {
                let at = next_in(cron, *timezone, wall, false)?;
                Some(now + (at - wall).to_std().unwrap_or_default())
            }
        }
    }
}

/// The next time of a cron line read in `timezone` (its hours are that zone's), after `from`
/// (or at it, when `inclusive`).
fn next_in(
    cron: &croner::Cron,
    timezone: chrono_tz::Tz,
    from: DateTime<Utc>,
    inclusive: bool,
) -> Option<DateTime<Utc>> {
    cron.find_next_occurrence(&from.with_timezone(&timezone), inclusive)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Next-due times of every monitor, on the monotonic clock: a wall clock stepped back an hour
/// (NTP) or ahead changes no interval.
struct DueQueue {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    next: Vec<Option<Next>>,
    /// The wall time of each cron monitor's queued occurrence.
    planned: Vec<Option<DateTime<Utc>>>,
}

impl DueQueue {
    /// A monitor checked before (`last`, wall time) is next due an interval after that check,
    /// so a restart or a reload keeps its rhythm; the others start in slots spread over their
    /// first interval, `per_slot` monitors to a slot (the checks allowed at once), so checks
    /// run together: one wake-up and one write for a slot, not one per check. A handful of
    /// monitors all start together; thousands spread evenly. Cron lines run at their next
    /// time. `start` and `wall` are the same moment on the monotonic and the wall clock.
    fn new(
        schedules: &[&Schedule],
        last: &[Option<DateTime<Utc>>],
        (start, wall): (Instant, DateTime<Utc>),
        per_slot: usize,
    ) -> Self {
        let next: Vec<Option<Next>> = schedules.iter().map(|s| Next::of(s)).collect();
        let count = schedules.len().max(1);
        let slots = count.div_ceil(per_slot.max(1));
        // Monitor i starts in slot i * slots / count, at that share of its interval.
        let offset = |every: Duration, i: usize| {
            let slot = u32::try_from(i * slots / count).unwrap_or(0);
            let slots = u32::try_from(slots).unwrap_or(1).max(1);
            every / slots * slot
        };
        let mut planned = vec![None; next.len()];
        let heap = next
            .iter()
            .enumerate()
            .filter_map(|(i, n)| {
                let first = match n.as_ref()? {
                    Next::Every(every) => last
                        .get(i)
                        .copied()
                        .flatten()
                        // A last check dated ahead (a clock set back since) waits one
                        // interval at most.
                        .and_then(|at| {
                            let since = (wall - at).to_std().unwrap_or_default();
                            every.checked_sub(since).filter(|left| !left.is_zero())
                        })
                        .map_or_else(|| start + offset(*every, i), |left| start + left),
                    Next::Cron(cron, timezone) => {
                        let at = next_in(cron, *timezone, wall, true)?;
                        planned[i] = Some(at);
                        start + (at - wall).to_std().unwrap_or_default()
                    }
                };
                Some(Reverse((first, i)))
            })
            .collect();
        Self {
            heap,
            next,
            planned,
        }
    }

    fn next_due(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// Takes every monitor due at `now` (with when it was due) and queues its next time;
    /// `wall` is the wall time at `now`.
    fn pop_due(&mut self, now: Instant, wall: DateTime<Utc>) -> Vec<(usize, Instant)> {
        let mut due = Vec::new();
        while let Some(Reverse((at, index))) = self.heap.peek().copied() {
            if at > now {
                break;
            }
            self.heap.pop();
            due.push((index, at));
            let next = match self.next[index].as_ref() {
                Some(Next::Cron(cron, timezone)) => {
                    // From the occurrence just run when the wall clock reads a little before
                    // it (a slewed clock, a wake-up early by the wall): the same occurrence is
                    // never queued twice. A clock stepped back further is taken as corrected.
                    let from = match self.planned[index] {
                        Some(p) if p > wall && (p - wall) < chrono::Duration::minutes(1) => p,
                        _ => wall,
                    };
                    let at = next_in(cron, *timezone, from, false);
                    self.planned[index] = at;
                    at.map(|at| now + (at - wall).to_std().unwrap_or_default())
                }
                Some(n) => n.after(at, now, wall),
                None => None,
            };
            match next {
                Some(next) => self.heap.push(Reverse((next, index))),
                None => tracing::warn!(monitor = index, "no later run time: this monitor stops"),
            }
        }
        due
    }
}

/// The monitor timer queue and the housekeeping jobs. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    checker: Checker,
    housekeeping: Housekeeping,
    metrics: Arc<Metrics>,
    clock: Arc<dyn Clock>,
    monitors: Vec<Arc<Monitor>>,
    /// Set while a monitor's check runs: a slow check is skipped, not stacked.
    busy: Vec<Arc<AtomicBool>>,
    permits: Arc<Semaphore>,
    queue: Mutex<DueQueue>,
    /// The checks under way, so a shutdown can let them finish and be written.
    running: TaskTracker,
    /// Set by a shutdown: a check still waiting for its turn does not start.
    closing: CancellationToken,
    /// Set when a shutdown stops waiting: checks still running are dropped.
    halt: CancellationToken,
}

impl Scheduler {
    pub fn new(
        checker: Checker,
        housekeeping: Housekeeping,
        metrics: Arc<Metrics>,
        roster: &Roster,
        last_checks: &HashMap<i64, DateTime<Utc>>,
        max_concurrent_checks: usize,
    ) -> Self {
        let clock = checker.clock().clone();
        let monitors: Vec<Arc<Monitor>> = roster.iter().cloned().collect();
        let schedules: Vec<&Schedule> = monitors.iter().map(|m| &m.spec.schedule).collect();
        let last: Vec<Option<DateTime<Utc>>> = monitors
            .iter()
            .map(|m| last_checks.get(&m.row).copied())
            .collect();
        let start = (clock.monotonic(), clock.now());
        let queue = DueQueue::new(&schedules, &last, start, max_concurrent_checks);
        Self {
            inner: Arc::new(Inner {
                busy: monitors.iter().map(|_| Arc::default()).collect(),
                monitors,
                checker,
                housekeeping,
                metrics,
                clock,
                permits: Arc::new(Semaphore::new(max_concurrent_checks)),
                queue: Mutex::new(queue),
                running: TaskTracker::new(),
                closing: CancellationToken::new(),
                halt: CancellationToken::new(),
            }),
        }
    }

    /// The upkeep jobs it runs.
    pub fn housekeeping(&self) -> &Housekeeping {
        &self.inner.housekeeping
    }

    /// Starts the check timer, the maintenance timer and the housekeeping cron jobs under
    /// `supervisor`, in `stage` (each restarted should it fail); they stop with the stage.
    /// The housekeeping jobs go on `cron` when given (the process's, shared by every reload:
    /// tokio-cron-scheduler's own tasks never end, so one per application would leak them),
    /// else on a cron scheduler of this application's own.
    pub fn start(&self, supervisor: &Supervisor, stage: &Stage, cron: Option<SharedCron>) {
        let timer = self.clone();
        supervisor.spawn_restarting("check timer", stage, move |stop| timer.clone().timer(stop));
        // Maintenance windows have their own timer: they open and close on time.
        let housekeeping = self.inner.housekeeping.clone();
        supervisor.spawn_restarting("maintenance timer", stage, move |stop| {
            housekeeping.clone().run_maintenance_timer(stop)
        });
        let (housekeeping, clock) = (self.inner.housekeeping.clone(), self.inner.clock.clone());
        supervisor.spawn_restarting("housekeeping", stage, move |stop| {
            run_cron(housekeeping.clone(), clock.clone(), cron.clone(), stop)
        });
    }

    /// Waits until the checks under way have finished and their results are written (the
    /// timer has stopped: no new check starts). A shutdown bounds the wait.
    pub async fn drain(&self) {
        self.inner.closing.cancel();
        self.inner.running.close();
        self.inner.running.wait().await;
    }

    /// Drops the checks still running (a shutdown that waited long enough): they had no
    /// result yet, and none of theirs is written afterwards.
    pub fn halt(&self) {
        self.inner.halt.cancel();
    }

    /// Runs every check due now by the clock, moves maintenance windows and sends the reminders
    /// due; returns when all of it is written. How tests drive the schedule with their own
    /// clock.
    pub async fn run_due(&self) -> anyhow::Result<usize> {
        let now = self.inner.clock.now();
        let due = self.take_due();
        let count = due.len();
        let checks: Vec<_> = due
            .into_iter()
            .map(|(index, at)| tokio::spawn(self.clone().check(index, at)))
            .collect();
        for check in checks {
            check.await?;
        }
        self.inner.housekeeping.advance_maintenances(now).await?;
        self.inner.housekeeping.send_reminders(now).await?;
        Ok(count)
    }

    /// The monitors due now by the monotonic clock.
    fn take_due(&self) -> Vec<(usize, Instant)> {
        let (now, wall) = (self.inner.clock.monotonic(), self.inner.clock.now());
        self.inner
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_due(now, wall)
    }

    /// Sleeps until the next check is due, starts every due check, and again, until `stop`.
    async fn timer(self, stop: CancellationToken) {
        loop {
            let next = self
                .inner
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .next_due();
            let Some(next) = next else {
                // Nothing is ever due again (no monitor, or none with a future time).
                stop.cancelled().await;
                return;
            };
            let wait = next
                .saturating_duration_since(self.inner.clock.monotonic())
                .min(MAX_SLEEP);
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            for (index, at) in self.take_due() {
                self.inner.running.spawn(self.clone().check(index, at));
            }
        }
    }

    /// Runs one check, unless the previous one of this monitor is still running; measures how
    /// late it starts against `due`.
    async fn check(self, index: usize, due: Instant) {
        let inner = &self.inner;
        let (Some(monitor), Some(busy)) = (inner.monitors.get(index), inner.busy.get(index)) else {
            return;
        };
        if busy.swap(true, Ordering::AcqRel) {
            tracing::debug!(monitor = %monitor.spec.id, "previous check still running; skipped");
            return;
        }
        // Cleared however the check ends, a panic included: the monitor is never stuck.
        let _running = Busy(busy.clone());
        let Ok(_permit) = inner.permits.acquire().await else {
            return;
        };
        if inner.closing.is_cancelled() {
            return;
        }
        let late = inner.clock.monotonic().saturating_duration_since(due);
        inner.metrics.observe_lateness(late);
        tokio::select! {
            result = inner.checker.run_check(monitor) => {
                if let Err(e) = result {
                    tracing::error!(monitor = %monitor.spec.id, error = format!("{e:#}"), "recording a check failed");
                }
            }
            () = inner.halt.cancelled() => {}
        }
    }
}

/// What a cron job asks the housekeeping task to do.
#[derive(Debug, Clone, Copy)]
enum Upkeep {
    Retention,
    Reminders,
}

/// Runs the housekeeping jobs when tokio-cron-scheduler fires them, until `stop`; then removes
/// them and shuts it down. Its jobs hold only a sender to this task: should the cron
/// scheduler's own tasks outlive it, they hold nothing of the application.
async fn run_cron(
    housekeeping: Housekeeping,
    clock: Arc<dyn Clock>,
    shared: Option<SharedCron>,
    stop: CancellationToken,
) {
    let (fire, fired) = tokio::sync::mpsc::channel(4);
    let mut lines = vec![(HOUSEKEEPING_CRON, Upkeep::Retention)];
    if housekeeping.reminds() {
        lines.push((REMINDER_CRON, Upkeep::Reminders));
    }
    let own = shared.is_none();
    let started = async {
        let cron = match shared {
            Some(shared) => shared.0,
            None => SharedCron::start().await?.0,
        };
        let mut jobs = Vec::new();
        // Jobs are added one by one: concurrent adds can hang the scheduler (STACK-NOTES.md).
        for (line, upkeep) in lines {
            jobs.push(cron.add(cron_job(line, upkeep, &fire)?).await?);
        }
        anyhow::Ok((cron, jobs))
    };
    let (mut cron, jobs) = match started.await {
        Ok(started) => started,
        Err(e) => {
            tracing::error!(
                error = format!("{e:#}"),
                "cannot start the housekeeping jobs"
            );
            return;
        }
    };
    drop(fire);
    serve_upkeep(&housekeeping, &clock, fired, &stop).await;
    for job in jobs {
        if let Err(e) = cron.remove(&job).await {
            tracing::warn!(error = %e, "removing a housekeeping job failed");
        }
    }
    if own && let Err(e) = cron.shutdown().await {
        tracing::warn!(error = %e, "stopping the cron scheduler failed");
    }
}

/// A started tokio-cron-scheduler, for the housekeeping jobs of every application the
/// process runs in turn (a reload removes the old jobs and adds the new ones).
#[derive(Clone)]
pub struct SharedCron(JobScheduler);

impl SharedCron {
    pub async fn start() -> anyhow::Result<Self> {
        let cron = JobScheduler::new().await?;
        cron.start().await?;
        Ok(Self(cron))
    }
}

impl std::fmt::Debug for SharedCron {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedCron")
    }
}

/// A cron job that sends `upkeep` on `fire` at the times of `line`.
fn cron_job(
    line: &str,
    upkeep: Upkeep,
    fire: &tokio::sync::mpsc::Sender<Upkeep>,
) -> anyhow::Result<Job> {
    let fire = fire.clone();
    Ok(Job::new_async(line, move |_, _| {
        let fire = fire.clone();
        Box::pin(async move {
            // Full: the same upkeep is already waiting to run.
            let _ = fire.try_send(upkeep);
        })
    })?)
}

/// Runs each upkeep as the cron jobs ask for it, until `stop`.
async fn serve_upkeep(
    housekeeping: &Housekeeping,
    clock: &Arc<dyn Clock>,
    mut fired: tokio::sync::mpsc::Receiver<Upkeep>,
    stop: &CancellationToken,
) {
    loop {
        let upkeep = tokio::select! {
            () = stop.cancelled() => return,
            upkeep = fired.recv() => upkeep,
        };
        match upkeep {
            Some(Upkeep::Retention) => housekeeping.run().await,
            Some(Upkeep::Reminders) => {
                if let Err(e) = housekeeping.send_reminders(clock.now()).await {
                    tracing::error!(error = format!("{e:#}"), "sending reminders failed");
                }
            }
            // The cron scheduler dropped its jobs: this life ends (and is restarted).
            None => return,
        }
    }
}

/// Marks a monitor's check as running until dropped.
struct Busy(Arc<AtomicBool>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Instant {
        static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *BASE.get_or_init(Instant::now)
    }

    fn t(sec: u64) -> Instant {
        base() + Duration::from_secs(sec)
    }

    fn wall(sec: u64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + i64::try_from(sec).expect("sec"), 0).expect("time")
    }

    fn pop(queue: &mut DueQueue, sec: u64) -> Vec<(usize, Instant)> {
        queue.pop_due(t(sec), wall(sec))
    }

    #[test]
    fn interval_monitors_start_spread_then_run_every_interval_skipping_missed_slots() {
        let every = Schedule::Every(Duration::from_secs(10));
        let mut queue = DueQueue::new(&[&every, &every], &[], (t(0), wall(0)), 1);
        assert_eq!(pop(&mut queue, 0), vec![(0, t(0))]);
        assert_eq!(pop(&mut queue, 5), vec![(1, t(5))]);
        assert_eq!(queue.next_due(), Some(t(10)));
        // Asleep for 35 s: each runs once, then keeps its own rhythm.
        assert_eq!(pop(&mut queue, 40), vec![(0, t(10)), (1, t(15))]);
        assert_eq!(pop(&mut queue, 44), vec![]);
        assert_eq!(pop(&mut queue, 45), vec![(1, t(45))]);
        assert_eq!(pop(&mut queue, 50), vec![(0, t(50))]);
    }

    #[test]
    fn interval_monitors_start_in_slots_of_the_checks_allowed_at_once() {
        let every = Schedule::Every(Duration::from_secs(60));
        // Fifty monitors, 64 at once: one slot, all together, then together every minute.
        let fifty = vec![&every; 50];
        let mut queue = DueQueue::new(&fifty, &[], (t(0), wall(0)), 64);
        assert_eq!(pop(&mut queue, 0).len(), 50);
        assert_eq!(queue.next_due(), Some(t(60)));
        assert_eq!(pop(&mut queue, 60).len(), 50);
        // Ten at 4 at once: three slots of 4, 3 and 3 monitors, 20 s apart.
        let ten = vec![&every; 10];
        let mut queue = DueQueue::new(&ten, &[], (t(0), wall(0)), 4);
        let sizes: Vec<usize> = [0, 20, 40]
            .iter()
            .map(|&s| pop(&mut queue, s).len())
            .collect();
        assert_eq!(sizes, vec![4, 3, 3]);
        assert_eq!(queue.next_due(), Some(t(60)));
    }

    #[test]
    fn a_monitor_checked_before_keeps_its_rhythm_and_one_dated_ahead_waits_one_interval() {
        let every = Schedule::Every(Duration::from_secs(60));
        let last = [
            Some(wall(100) - chrono::Duration::seconds(20)),
            Some(wall(3_700)),
        ];
        let queue = DueQueue::new(&[&every, &every], &last, (t(0), wall(100)), 1);
        let mut due: Vec<Instant> = queue.heap.iter().map(|Reverse((at, _))| *at).collect();
        due.sort();
        assert_eq!(due, vec![t(40), t(60)]);
    }

    #[test]
    fn cron_monitors_run_at_their_times() {
        let cron = Schedule::Cron {
            line: "0 * * * * *".to_string(),
            timezone: chrono_tz::UTC,
        };
        let start = DateTime::parse_from_rfc3339("2026-11-29T10:00:30Z")
            .expect("time")
            .with_timezone(&Utc);
        let mut queue = DueQueue::new(&[&cron], &[], (t(0), start), 1);
        assert_eq!(queue.next_due(), Some(t(30)));
        let wall_at = start + chrono::Duration::seconds(30);
        assert_eq!(queue.pop_due(t(30), wall_at), vec![(0, t(30))]);
        assert_eq!(queue.next_due(), Some(t(90)));
    }

    /// A wake-up that the wall clock dates a little before its occurrence (a slewed clock)
    /// runs that occurrence once: the next is the one after it, not the same one again.
    #[test]
    fn a_cron_occurrence_runs_once_when_the_wall_clock_reads_a_little_early() {
        let cron = Schedule::Cron {
            line: "0 * * * * *".to_string(),
            timezone: chrono_tz::UTC,
        };
        let start = DateTime::parse_from_rfc3339("2026-11-29T10:00:30Z")
            .expect("time")
            .with_timezone(&Utc);
        let mut queue = DueQueue::new(&[&cron], &[], (t(0), start), 1);
        assert_eq!(queue.next_due(), Some(t(30)));
        // Due at t(30) = 10:01:00 planned; the wall clock reads 10:00:59.800 then.
        let early = start + chrono::Duration::milliseconds(29_800);
        assert_eq!(queue.pop_due(t(30), early), vec![(0, t(30))]);
        let next = queue.next_due().expect("queued");
        assert!(
            next > t(89),
            "queued for 10:02, not 10:01 again: {:?}",
            next - t(0)
        );
    }
}
