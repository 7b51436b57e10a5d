//! When checks run. Interval monitors run from one timer queue (a heap of next-due instants);
//! tokio-cron-scheduler runs only the housekeeping jobs and monitors given a `cron` line
//! (it drops firings when hundreds fall due at once, see DESIGN.md).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use crate::domain::monitor::Schedule;
use crate::state::{AppState, MonitorHandle};
use crate::{housekeeping, monitoring};

/// Housekeeping runs at minute 17 of every hour (off the hour, when other jobs pile up).
const HOUSEKEEPING_CRON: &str = "0 17 * * * *";
/// Maintenance windows open and close within this many seconds of their times.
const MAINTENANCE_CRON: &str = "*/2 * * * * *";

/// The running schedulers; dropping it does not stop them, [`Scheduler::shutdown`] does.
pub struct Scheduler {
    cron: JobScheduler,
}

impl Scheduler {
    /// Starts the timer queue and the cron jobs; both stop when `stop` is cancelled.
    pub async fn start(state: AppState, stop: CancellationToken) -> anyhow::Result<Self> {
        let permits = Arc::new(Semaphore::new(state.config.server.max_concurrent_checks));
        let cron = JobScheduler::new().await?;
        // Jobs are added one by one: concurrent adds can hang the scheduler (STACK-NOTES.md).
        let job_state = state.clone();
        cron.add(Job::new_async(HOUSEKEEPING_CRON, move |_, _| {
            let state = job_state.clone();
            Box::pin(async move { housekeeping::run(&state).await })
        })?)
        .await?;
        let job_state = state.clone();
        cron.add(Job::new_async(MAINTENANCE_CRON, move |_, _| {
            let state = job_state.clone();
            Box::pin(async move {
                if let Err(e) = housekeeping::advance_maintenances(&state, chrono::Utc::now()).await
                {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "advancing maintenance windows failed"
                    );
                }
            })
        })?)
        .await?;
        let mut interval_monitors = Vec::new();
        for monitor in state.monitors.iter() {
            match &monitor.spec.schedule {
                Schedule::Every(every) => interval_monitors.push((monitor.clone(), *every)),
                Schedule::Cron(line) => {
                    let (state, monitor, permits) =
                        (state.clone(), monitor.clone(), permits.clone());
                    let busy = Arc::new(AtomicBool::new(false));
                    cron.add(Job::new_async(line.as_str(), move |_, _| {
                        let check = checker(&state, &monitor, &permits, &busy, None);
                        Box::pin(check)
                    })?)
                    .await?;
                }
            }
        }
        cron.start().await?;
        tokio::spawn(timer_queue(state, interval_monitors, permits, stop));
        Ok(Self { cron })
    }

    pub async fn shutdown(mut self) {
        if let Err(e) = self.cron.shutdown().await {
            tracing::warn!(error = %e, "stopping the cron scheduler failed");
        }
    }
}

/// A future that runs one check, unless the previous one of this monitor is still running.
/// `due` is when the timer queue meant it to start; how late it starts is measured.
fn checker(
    state: &AppState,
    monitor: &Arc<MonitorHandle>,
    permits: &Arc<Semaphore>,
    busy: &Arc<AtomicBool>,
    due: Option<Instant>,
) -> impl Future<Output = ()> + Send + 'static {
    let (state, monitor, permits, busy) = (
        state.clone(),
        monitor.clone(),
        permits.clone(),
        busy.clone(),
    );
    async move {
        if busy.swap(true, Ordering::AcqRel) {
            tracing::debug!(monitor = %monitor.spec.id, "previous check still running; skipped");
            return;
        }
        // Cleared however the check ends, a panic included: the monitor is never stuck.
        let _running = Running(busy);
        let Ok(_permit) = permits.acquire().await else {
            return;
        };
        if let Some(due) = due {
            state
                .metrics
                .observe_lateness(Instant::now().saturating_duration_since(due));
        }
        if let Err(e) = monitoring::run_check(&state, &monitor).await {
            tracing::error!(monitor = %monitor.spec.id, error = format!("{e:#}"), "recording a check failed");
        }
    }
}

/// Marks a monitor's check as running until dropped.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Runs every interval monitor on time: first checks spread over the first interval, then
/// every `interval` after the previous due time (no drift); missed slots are skipped, not
/// replayed in a burst.
async fn timer_queue(
    state: AppState,
    monitors: Vec<(Arc<MonitorHandle>, Duration)>,
    permits: Arc<Semaphore>,
    stop: CancellationToken,
) {
    let start = Instant::now();
    let count = monitors.len().max(1) as u32;
    let busy: Vec<Arc<AtomicBool>> = monitors
        .iter()
        .map(|_| Arc::new(AtomicBool::new(false)))
        .collect();
    let mut queue: BinaryHeap<Reverse<(Instant, usize)>> = monitors
        .iter()
        .enumerate()
        .map(|(i, (_, every))| Reverse((start + *every * i as u32 / count, i)))
        .collect();
    while let Some(Reverse((due, index))) = queue.pop() {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(due) => {}
        }
        let (monitor, every) = &monitors[index];
        tokio::spawn(checker(&state, monitor, &permits, &busy[index], Some(due)));
        let now = Instant::now();
        let mut next = due + *every;
        while next <= now {
            next += *every;
        }
        queue.push(Reverse((next, index)));
    }
    stop.cancelled().await;
}
