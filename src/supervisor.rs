//! One supervisor for every background task of an application: the ping queue, the check
//! timer, the maintenance timer, the housekeeping cron jobs, the renderer, the publisher, the
//! notifier and the writer. Each task is started here with a name and the token that stops it;
//! a task that ends before its token is cancelled, or panics, is logged at ERROR with its name
//! and then either restarted after a backoff ([`Supervisor::spawn_restarting`]) or stops the
//! server ([`Supervisor::spawn_essential`]: [`Supervisor::failed`] resolves and the server
//! exits non-zero). A shutdown — a reload's included — cancels the tokens stage by stage, then
//! waits for the whole set ([`Supervisor::shutdown`]); a task still running after the grace
//! is aborted. Dropping the supervisor stops and aborts whatever is left, so an application
//! that failed half-built leaves nothing behind either.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;

/// A restarted task waits this long first, doubling at each failure in a row,
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// up to this (a task failing for good costs one log line a minute, not a busy loop),
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// and starts again from [`FIRST_BACKOFF`] once it ran this long without failing.
const HEALTHY_AFTER: Duration = Duration::from_secs(60);

/// In debug builds only: the name of a task made to panic when it first starts, to test
/// that the supervisor logs and restarts it (or stops the server).
#[cfg(debug_assertions)]
pub const PANIC_HOOK_VARIABLE: &str = "SIGNALFIRE_TEST_PANIC_TASK";

/// The background tasks of one application. Cheap to clone; the last clone dropped stops and
/// aborts every task.
#[derive(Clone)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

struct Inner {
    tracker: TaskTracker,
    /// Parent of every stage's token: cancelled when the supervisor is dropped.
    root: CancellationToken,
    /// Aborts every task still running.
    abort: CancellationToken,
    /// Cancelled when an essential task ended: the server stops.
    failed: CancellationToken,
    failure: Mutex<Option<String>>,
    _root: DropGuard,
    _abort: DropGuard,
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

impl Supervisor {
    pub fn new() -> Self {
        let (root, abort) = (CancellationToken::new(), CancellationToken::new());
        Self {
            inner: Arc::new(Inner {
                tracker: TaskTracker::new(),
                _root: root.clone().drop_guard(),
                _abort: abort.clone().drop_guard(),
                root,
                abort,
                failed: CancellationToken::new(),
                failure: Mutex::new(None),
            }),
        }
    }

    /// A new stage of the shutdown: the tasks stopped together (all stages stop with the
    /// supervisor, at the latest).
    pub fn stage(&self) -> Stage {
        Stage {
            stop: self.inner.root.child_token(),
            abort: self.inner.abort.child_token(),
            tracker: TaskTracker::new(),
        }
    }

    /// Runs `make(stop)` as the task `name` until `stop` is cancelled; should it end before,
    /// or panic, it is logged and started again (after a backoff).
    pub fn spawn_restarting<F, Fut>(&self, name: &'static str, stage: &Stage, make: F)
    where
        F: FnMut(CancellationToken) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let task = restarting(name, stage.clone(), make);
        self.inner.tracker.spawn(stage.tracker.track_future(task));
    }

    /// Runs `task` as the task `name` until `stop` is cancelled; should it end before, or
    /// panic, it is logged and the server stops ([`Supervisor::failed`]).
    pub fn spawn_essential<Fut>(&self, name: &'static str, stage: &Stage, task: Fut)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (stage_, failed) = (stage.clone(), self.inner.clone());
        let task = async move {
            let Some(outcome) = run_once(name, 0, &stage_.abort, task).await else {
                return;
            };
            if stage_.stop.is_cancelled() && outcome.is_none() {
                return;
            }
            let why = outcome.unwrap_or_else(|| "ended unexpectedly".to_string());
            tracing::error!(
                task = name,
                "background task {name} {why}; stopping the server"
            );
            *failed.failure.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(format!("{name} {why}"));
            failed.failed.cancel();
        };
        self.inner.tracker.spawn(stage.tracker.track_future(task));
    }

    /// Resolves when an essential task ended; what happened to it.
    pub async fn failed(&self) -> String {
        self.inner.failed.cancelled().await;
        self.inner
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .unwrap_or_default()
    }

    /// Waits up to `grace` for every task to end (their stages cancelled before), then aborts
    /// the rest and waits for them. No task is started afterwards.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.root.cancel();
        self.inner.tracker.close();
        if tokio::time::timeout(grace, self.inner.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                tasks = self.inner.tracker.len(),
                "background tasks still running at shutdown were aborted"
            );
            self.inner.abort.cancel();
            self.inner.tracker.wait().await;
        }
    }

    /// Background tasks running now.
    pub fn len(&self) -> usize {
        self.inner.tracker.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.tracker.is_empty()
    }
}

/// The tasks stopped together at a shutdown. Cheap to clone.
#[derive(Clone)]
pub struct Stage {
    stop: CancellationToken,
    abort: CancellationToken,
    tracker: TaskTracker,
}

impl Stage {
    /// Cancelled when this stage stops.
    pub fn token(&self) -> &CancellationToken {
        &self.stop
    }

    /// Stops this stage's tasks: they are told to stop and get `grace` to end, then the rest
    /// is aborted. Returns false when some had to be aborted.
    pub async fn stop(&self, grace: Duration) -> bool {
        self.stop.cancel();
        self.tracker.close();
        if tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
        {
            return true;
        }
        self.abort.cancel();
        self.tracker.wait().await;
        false
    }
}

/// Runs `make(stop)` again after each unexpected end, with a backoff, until the stage stops.
async fn restarting<F, Fut>(name: &'static str, stage: Stage, mut make: F)
where
    F: FnMut(CancellationToken) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut backoff = FIRST_BACKOFF;
    for run in 0u64.. {
        let started = tokio::time::Instant::now();
        let task = make(stage.stop.clone());
        let Some(outcome) = run_once(name, run, &stage.abort, task).await else {
            return;
        };
        if stage.stop.is_cancelled() {
            if let Some(why) = outcome {
                tracing::error!(task = name, "background task {name} {why} while stopping");
            }
            return;
        }
        if started.elapsed() >= HEALTHY_AFTER {
            backoff = FIRST_BACKOFF;
        }
        let why = outcome.unwrap_or_else(|| "ended unexpectedly".to_string());
        tracing::error!(
            task = name,
            restart_in_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
            "background task {name} {why}; restarting it"
        );
        tokio::select! {
            () = stage.stop.cancelled() => return,
            () = stage.abort.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Runs one life of a task on its own tokio task (a panic stays there). `None`: aborted;
/// `Some(None)`: it returned; `Some(Some(why))`: it panicked.
async fn run_once<Fut>(
    name: &'static str,
    run: u64,
    abort: &CancellationToken,
    task: Fut,
) -> Option<Option<String>>
where
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut handle = tokio::spawn(injected_panic(name, run, task));
    tokio::select! {
        joined = &mut handle => Some(match joined {
            Ok(()) => None,
            Err(e) if e.is_panic() => Some(format!("panicked: {}", panic_text(e.into_panic()))),
            Err(e) => Some(format!("was cancelled: {e}")),
        }),
        () = abort.cancelled() => {
            handle.abort();
            let _ = handle.await;
            None
        }
    }
}

/// `task`, made to panic at its first start in a debug build whose
/// [`PANIC_HOOK_VARIABLE`] names it.
fn injected_panic<Fut>(name: &'static str, run: u64, task: Fut) -> impl Future<Output = ()>
where
    Fut: Future<Output = ()> + Send + 'static,
{
    #[cfg(debug_assertions)]
    let inject = run == 0 && std::env::var(PANIC_HOOK_VARIABLE).is_ok_and(|v| v == name);
    #[cfg(not(debug_assertions))]
    let inject = {
        let _ = (name, run);
        false
    };
    async move {
        if inject {
            panic!("injected for a test ({name})");
        }
        task.await;
    }
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_that_panics_is_restarted_and_one_that_ends_stops_the_server() {
        let supervisor = Supervisor::new();
        let stage = supervisor.stage();
        let (started, mut runs) = tokio::sync::mpsc::unbounded_channel();
        let mut run = 0;
        supervisor.spawn_restarting("flaky", &stage, move |stop| {
            run += 1;
            let (started, this) = (started.clone(), run);
            async move {
                let _ = started.send(this);
                if this < 3 {
                    panic!("run {this} failed");
                }
                stop.cancelled().await;
            }
        });
        for expected in 1..=3 {
            let run = tokio::time::timeout(Duration::from_secs(5), runs.recv())
                .await
                .expect("restarted after its backoff");
            assert_eq!(run, Some(expected));
        }
        assert_eq!(supervisor.len(), 1, "restarted, still supervised");
        supervisor.spawn_essential("writer", &stage, async {});
        let why = tokio::time::timeout(Duration::from_secs(5), supervisor.failed())
            .await
            .expect("an essential task that ends stops the server");
        assert_eq!(why, "writer ended unexpectedly");
        assert!(
            stage.stop(Duration::from_secs(5)).await,
            "stopped when told"
        );
        supervisor.shutdown(Duration::from_secs(5)).await;
        assert!(supervisor.is_empty());
        assert!(runs.try_recv().is_err(), "no restart after the shutdown");
    }

    #[tokio::test]
    async fn a_task_that_ignores_the_shutdown_is_aborted_after_the_grace() {
        let supervisor = Supervisor::new();
        let stage = supervisor.stage();
        supervisor.spawn_restarting("stubborn", &stage, |_| std::future::pending());
        assert!(!stage.stop(Duration::from_millis(50)).await, "aborted");
        assert!(supervisor.is_empty());
    }
}
