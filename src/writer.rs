//! The one writer: a generic "run this in the write transaction" service. It knows nothing of
//! monitors or incidents. Jobs queue up and are written in batches — one transaction for
//! everything that arrived while the previous batch was being written, each job in its own
//! savepoint — so thousands of checks cost few commits and one refused job loses only itself.
//!
//! A job records its changes as domain events with [`Tx::emit`]. Events are published on the
//! change stream after the transaction commits, never before and never for a job that was
//! rolled back. [`Tx::emit`] is also where rows that must commit with the change are written:
//! every [`InTransaction`] hook (the notifier's outbox) stages its rows there, inside the job's
//! savepoint, so a notification is written if and only if its cause is.

use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use anyhow::Context;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::db::{self, Db};
use crate::error::StorageUnavailable;
use crate::events::{Bus, Event};
use crate::supervisor::{Stage, Supervisor};
use tokio_util::sync::CancellationToken;

/// Jobs written in one transaction at most.
const MAX_BATCH: usize = 512;
/// Jobs waiting to be written before senders wait (back-pressure on the probes).
const QUEUE: usize = 4_096;

/// While writes fail for want of storage and nothing else is written, a small probe write is
/// tried this often: writes are known to work again (and /healthz says 200) within this of
/// the disk having room, even on a server with nothing to write.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether writes can be kept: the cause while the storage refuses them (disk full,
/// read-only, I/O errors), `None` since the last write that committed.
#[derive(Default)]
struct Health(std::sync::Mutex<Option<String>>);

impl Health {
    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, cause: Option<String>) {
        let mut current = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match (&*current, &cause) {
            (None, Some(why)) => tracing::error!(cause = %why, "writes cannot be kept"),
            (Some(_), None) => tracing::info!("writes are kept again"),
            _ => {}
        }
        *current = cause;
    }
}

/// The cause in words when `error` is the storage refusing a write, not the write's own fault.
pub fn storage_cause(error: &anyhow::Error) -> Option<String> {
    use rusqlite::ErrorCode as C;
    let code = error
        .chain()
        .find_map(|e| match e.downcast_ref::<rusqlite::Error>() {
            Some(rusqlite::Error::SqliteFailure(failure, _)) => Some(failure.code),
            _ => None,
        })?;
    let why = match code {
        C::DiskFull => "the disk is full",
        C::ReadOnly => "the database is read-only",
        C::SystemIoFailure => "the disk reports I/O errors",
        C::CannotOpen => "the database file cannot be opened",
        C::DatabaseCorrupt | C::NotADatabase => "the database file is damaged",
        _ => return None,
    };
    Some(format!("no write can be kept: {why}"))
}

/// Why a batch was not committed.
struct Failure {
    why: String,
    /// Set when the storage refused it.
    storage: Option<String>,
}

/// Writes rows in the same transaction as the change that causes them.
pub trait InTransaction: Send + Sync {
    /// Called for every event a job emits, inside the job's savepoint. An error rolls the job back.
    fn stage(&self, conn: &Connection, event: &Event) -> rusqlite::Result<()>;

    /// Called when a job was rolled back, or a whole batch was: whatever the hook keeps in
    /// memory from the events it saw may be untrue.
    fn rolled_back(&self) {}
}

/// A job's view of the write transaction: the connection, and the events its changes cause.
pub struct Tx<'a> {
    conn: &'a Connection,
    hooks: &'a [Arc<dyn InTransaction>],
    staged: Vec<Event>,
}

impl Deref for Tx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl<'a> Tx<'a> {
    fn new(conn: &'a Connection, hooks: &'a [Arc<dyn InTransaction>]) -> Self {
        Self {
            conn,
            hooks,
            staged: Vec::new(),
        }
    }

    /// Records a change: staged rows are written now, the event is published after commit.
    pub fn emit(&mut self, event: Event) -> rusqlite::Result<()> {
        for hook in self.hooks {
            hook.stage(self.conn, &event)?;
        }
        self.staged.push(event);
        Ok(())
    }
}

/// One queued job, its result kept until the batch's fate is known.
trait Work: Send {
    /// Runs the job; true when it succeeded (its savepoint is kept).
    fn run(&mut self, tx: &mut Tx<'_>) -> bool;
    /// The cause when the job was refused because the storage refuses writes.
    fn storage_failure(&self) -> Option<String>;
    /// Answers the waiter: the job's own result, or why the batch was not committed.
    fn finish(self: Box<Self>, batch_failure: Option<&Failure>);
}

struct Pending<T, F> {
    work: Option<F>,
    result: Option<anyhow::Result<T>>,
    reply: oneshot::Sender<anyhow::Result<T>>,
}

impl<T, F> Work for Pending<T, F>
where
    T: Send,
    F: FnOnce(&mut Tx<'_>) -> anyhow::Result<T> + Send,
{
    fn run(&mut self, tx: &mut Tx<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = work(tx);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn storage_failure(&self) -> Option<String> {
        match &self.result {
            Some(Err(e)) => storage_cause(e),
            _ => None,
        }
    }

    fn finish(self: Box<Self>, batch_failure: Option<&Failure>) {
        let result = match (self.result, batch_failure) {
            (Some(Err(refused)), _) => Err(match storage_cause(&refused) {
                Some(cause) => anyhow::Error::new(StorageUnavailable(cause)),
                None => refused,
            }),
            (
                _,
                Some(Failure {
                    storage: Some(cause),
                    ..
                }),
            ) => Err(anyhow::Error::new(StorageUnavailable(cause.clone()))),
            (_, Some(Failure { why, .. })) => {
                Err(anyhow::anyhow!("the write was not committed: {why}"))
            }
            (Some(done), None) => done,
            (None, None) => Err(anyhow::anyhow!(
                "the write failed unexpectedly and was rolled back (see the log)"
            )),
        };
        let _ = self.reply.send(result);
    }
}

/// Handle to the writer task; cheap to clone. The task ends when every clone is dropped, or,
/// started by a supervisor, when its stage stops (it writes what is queued, then refuses more).
#[derive(Clone)]
pub struct Writer {
    queue: mpsc::Sender<Box<dyn Work>>,
    health: Arc<Health>,
}

impl Writer {
    /// Starts the writer task on the current tokio runtime (tools and tests: it ends when
    /// every handle is dropped).
    pub fn start(db: Db, bus: Bus, hooks: Vec<Arc<dyn InTransaction>>) -> Self {
        let (queue, jobs) = mpsc::channel::<Box<dyn Work>>(QUEUE);
        let health = Arc::new(Health::default());
        tokio::spawn(write_queue(
            db,
            bus,
            hooks.into(),
            health.clone(),
            jobs,
            CancellationToken::new(),
        ));
        Self { queue, health }
    }

    /// Starts the writer task under `supervisor`, in `stage`: an application's writer. Should
    /// it ever end before its stage stops, nothing more could be recorded: the server stops.
    pub fn start_supervised(
        db: Db,
        bus: Bus,
        hooks: Vec<Arc<dyn InTransaction>>,
        supervisor: &Supervisor,
        stage: &Stage,
    ) -> Self {
        let (queue, jobs) = mpsc::channel::<Box<dyn Work>>(QUEUE);
        let health = Arc::new(Health::default());
        let stop = stage.token().clone();
        supervisor.spawn_essential(
            "writer",
            stage,
            write_queue(db, bus, hooks.into(), health.clone(), jobs, stop),
        );
        Self { queue, health }
    }

    /// Why writes cannot be kept, while the storage refuses them (disk full, read-only, I/O
    /// errors); `None` once a write has committed again.
    pub fn failing(&self) -> Option<String> {
        self.health.get()
    }

    /// Runs `f` in a write transaction and returns its result once that has committed (and
    /// its events have been published). An `Err` from `f` rolls back `f`'s writes only.
    pub async fn run<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> anyhow::Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Pending {
            work: Some(f),
            result: None,
            reply,
        };
        self.queue
            .send(Box::new(job))
            .await
            .map_err(|_| anyhow::anyhow!("the writer has stopped"))?;
        answer
            .await
            .context("the writer dropped a write (it failed while writing)")?
    }
}

/// The next job; while writes fail, a probe write is tried whenever none came for
/// [`PROBE_EVERY`]. `None` when every handle is gone.
async fn next_job(
    jobs: &mut mpsc::Receiver<Box<dyn Work>>,
    db: &Db,
    health: &Arc<Health>,
) -> Option<Box<dyn Work>> {
    loop {
        if health.get().is_none() {
            return jobs.recv().await;
        }
        if let Ok(job) = tokio::time::timeout(PROBE_EVERY, jobs.recv()).await {
            return job;
        }
        let (db, health) = (db.clone(), health.clone());
        let _ = tokio::task::spawn_blocking(move || probe(&db, &health)).await;
    }
}

/// A small write that needs room, committed and undone: does the storage take writes again?
fn probe(db: &Db, health: &Health) {
    match db.write_blocking(|conn| Ok(db::probe_write(conn)?)) {
        Ok(()) => health.set(None),
        Err(e) => {
            if let Some(cause) = storage_cause(&e) {
                health.set(Some(cause));
            }
        }
    }
}

/// Writes the queued jobs in batches until the queue closes: when every handle is dropped, or
/// when `stop` is cancelled (what was queued before is still written).
async fn write_queue(
    db: Db,
    bus: Bus,
    hooks: Arc<[Arc<dyn InTransaction>]>,
    health: Arc<Health>,
    mut jobs: mpsc::Receiver<Box<dyn Work>>,
    stop: CancellationToken,
) {
    let mut closed = false;
    loop {
        let next = tokio::select! {
            job = next_job(&mut jobs, &db, &health) => job,
            () = stop.cancelled(), if !closed => {
                jobs.close();
                closed = true;
                continue;
            }
        };
        let Some(first) = next else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (db, bus, hooks, health) = (db.clone(), bus.clone(), hooks.clone(), health.clone());
        let written =
            tokio::task::spawn_blocking(move || write_batch(&db, &bus, &hooks, &health, batch))
                .await;
        if let Err(e) = written {
            tracing::error!(error = %e, "the writer task failed; its batch was rolled back");
        }
    }
}

/// One transaction for the batch, each job in its own savepoint. Events of committed jobs are
/// published before anyone is answered, so a caller that hears "done" finds subscribers told.
fn write_batch(
    db: &Db,
    bus: &Bus,
    hooks: &[Arc<dyn InTransaction>],
    health: &Health,
    batch: Vec<Box<dyn Work>>,
) {
    let mut pending: std::collections::VecDeque<Box<dyn Work>> = batch.into();
    let mut refused_for_storage = None;
    let mut done: Vec<Box<dyn Work>> = Vec::with_capacity(pending.len());
    let mut events = Vec::new();
    let outcome = db.write_blocking(|conn| {
        while let Some(mut job) = pending.pop_front() {
            let mut tx = Tx::new(conn, hooks);
            // A job that panics is a refused job: the others in the batch are still written.
            let kept = db::in_savepoint(conn, || {
                std::panic::catch_unwind(AssertUnwindSafe(|| job.run(&mut tx))).unwrap_or(false)
            });
            // A savepoint that fails fails the batch; every job, this one too, is still
            // answered with why. (On a full disk or an I/O error SQLite may roll the whole
            // transaction back itself: the savepoint is gone, and the job's error says why.)
            let kept = match kept {
                Ok(kept) => kept,
                Err(e) => {
                    refused_for_storage =
                        refused_for_storage.take().or_else(|| job.storage_failure());
                    done.push(job);
                    return Err(e.into());
                }
            };
            if kept {
                events.append(&mut tx.staged);
            } else {
                // Only a job that emitted something told the hooks anything to take back (an
                // owner's form refused for a bad field did not).
                if !tx.staged.is_empty() {
                    hooks.iter().for_each(|h| h.rolled_back());
                }
                if refused_for_storage.is_none() {
                    refused_for_storage = job.storage_failure();
                }
            }
            done.push(job);
        }
        Ok(())
    });
    match outcome {
        Ok(()) => {
            // A job the storage refused leaves writes failing. Once they failed, a write that
            // fitted in what room is left proves little: they work again when the probe does.
            match refused_for_storage {
                Some(cause) => health.set(Some(cause)),
                None if health.get().is_some() => probe(db, health),
                None => {}
            }
            bus.publish(&events);
            for job in done {
                job.finish(None);
            }
        }
        Err(e) => {
            // BEGIN, a savepoint or COMMIT failed: nothing of the batch was written.
            hooks.iter().for_each(|h| h.rolled_back());
            let failure = Failure {
                why: format!("{e:#}"),
                storage: storage_cause(&e).or(refused_for_storage),
            };
            if failure.storage.is_some() {
                health.set(failure.storage.clone());
            }
            tracing::error!(error = %failure.why, jobs = done.len() + pending.len(), "a write batch failed");
            for job in done.into_iter().chain(pending) {
                job.finish(Some(&failure));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::events::Subscriber;

    #[derive(Default)]
    struct Heard(Mutex<Vec<Event>>);

    impl Subscriber for Heard {
        fn notify(&self, events: &[Event]) {
            self.0.lock().expect("lock").extend(events.iter().cloned());
        }
    }

    fn event(n: i64) -> Event {
        Event::IncidentDeleted { incident: n }
    }

    fn setup(busy: Duration) -> (tempfile::TempDir, Db, Bus, Arc<Heard>) {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open_with_busy_timeout(&dir.path().join("t.db"), busy).expect("db");
        let bus = Bus::new();
        let heard = Arc::new(Heard::default());
        bus.subscribe(heard.clone());
        (dir, db, bus, heard)
    }

    fn count(db: &Db) -> i64 {
        db.read_blocking(|c| Ok(c.query_row("SELECT count(*) FROM incidents", [], |r| r.get(0))?))
            .expect("count")
    }

    fn insert(tx: &Tx<'_>) -> rusqlite::Result<usize> {
        tx.execute(
            "INSERT INTO incidents (kind, name, status, impact, created_at, updated_at, started_at)
             VALUES ('incident', 'x', 'investigating', 'none', 0, 0, 0)",
            [],
        )
    }

    #[tokio::test]
    async fn a_refused_job_loses_only_its_own_writes_and_events() {
        let (_dir, db, bus, heard) = setup(Duration::from_secs(5));
        let writer = Writer::start(db.clone(), bus, Vec::new());
        let kept = writer.run(|tx| {
            insert(tx)?;
            tx.emit(event(1))?;
            Ok(1)
        });
        let refused = writer.run(|tx| -> anyhow::Result<()> {
            insert(tx)?;
            tx.emit(event(2))?;
            anyhow::bail!("refused")
        });
        let (kept, refused) = tokio::join!(kept, refused);
        assert_eq!(kept.expect("kept"), 1);
        assert_eq!(refused.expect_err("refused").to_string(), "refused");
        assert_eq!(count(&db), 1);
        assert_eq!(*heard.0.lock().expect("lock"), vec![event(1)]);
    }

    struct FailingHook;

    impl InTransaction for FailingHook {
        fn stage(&self, conn: &Connection, event: &Event) -> rusqlite::Result<()> {
            conn.execute(
                "INSERT INTO incidents (kind, name, status, impact, created_at, updated_at, started_at)
                 VALUES ('incident', 'staged', 'investigating', 'none', 0, 0, 0)",
                [],
            )?;
            match event {
                Event::IncidentDeleted { incident: 2 } => Err(rusqlite::Error::InvalidQuery),
                _ => Ok(()),
            }
        }
    }

    #[tokio::test]
    async fn rows_staged_by_a_hook_commit_or_roll_back_with_their_cause() {
        let (_dir, db, bus, heard) = setup(Duration::from_secs(5));
        let writer = Writer::start(db.clone(), bus, vec![Arc::new(FailingHook)]);
        writer
            .run(|tx| Ok(tx.emit(event(1))?))
            .await
            .expect("staged");
        assert_eq!(count(&db), 1, "the hook's row is written with the change");
        let failed = writer
            .run(|tx| {
                insert(tx)?;
                Ok(tx.emit(event(2))?)
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(count(&db), 1, "neither the change nor the hook's row");
        assert_eq!(*heard.0.lock().expect("lock"), vec![event(1)]);
    }

    #[tokio::test]
    async fn a_job_that_panics_loses_only_its_own_writes() {
        let (_dir, db, bus, heard) = setup(Duration::from_secs(5));
        let writer = Writer::start(db.clone(), bus, Vec::new());
        let kept = writer.run(|tx| {
            insert(tx)?;
            Ok(tx.emit(event(1))?)
        });
        let panics = writer.run(|tx| -> anyhow::Result<()> {
            insert(tx)?;
            tx.emit(event(2))?;
            panic!("a bug in one job")
        });
        let (kept, panics) = tokio::join!(kept, panics);
        kept.expect("the other job is written");
        assert!(panics.is_err());
        assert_eq!(count(&db), 1);
        assert_eq!(*heard.0.lock().expect("lock"), vec![event(1)]);
    }

    /// Disk full, simulated: the writer's connection may not grow the file past `pages`.
    fn max_pages(db: &Db, pages: Option<i64>) {
        db.write_blocking(|c| {
            let now: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let max = pages.unwrap_or(now);
            c.query_row(&format!("PRAGMA max_page_count = {max}"), [], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(())
        })
        .expect("pragma");
    }

    #[tokio::test]
    async fn every_job_the_storage_refuses_is_answered_with_the_cause_until_a_probe_commits() {
        let (_dir, db, bus, heard) = setup(Duration::from_secs(5));
        let writer = Writer::start(db.clone(), bus, Vec::new());
        max_pages(&db, None);
        let big = |tx: &Tx<'_>| {
            tx.execute(
                "INSERT INTO incidents (kind, name, status, impact, created_at, updated_at, started_at)
                 VALUES ('incident', zeroblob(200000), 'investigating', 'none', 0, 0, 0)",
                [],
            )
        };
        let small = writer.run(|tx| Ok(tx.emit(event(1))?));
        let refused = writer.run(move |tx| {
            big(tx)?;
            Ok(tx.emit(event(2))?)
        });
        let (small, refused) = tokio::join!(small, refused);
        let refused = refused.expect_err("no room");
        assert_eq!(
            refused
                .downcast_ref::<StorageUnavailable>()
                .map(|e| e.0.as_str()),
            Some("no write can be kept: the disk is full")
        );
        // Answered either way (written, or refused with the batch SQLite rolled back).
        if let Err(e) = small {
            assert!(e.downcast_ref::<StorageUnavailable>().is_some(), "{e:#}");
        }
        assert_eq!(
            writer.failing().as_deref(),
            Some("no write can be kept: the disk is full")
        );
        assert!(!heard.0.lock().expect("lock").contains(&event(2)));
        // Room again: the next batch commits and the probe clears the failure.
        max_pages(&db, Some(1_073_741_823));
        writer
            .run(|tx| Ok(tx.emit(event(3))?))
            .await
            .expect("written");
        assert_eq!(writer.failing(), None);
        probe(&db, &writer.health);
        assert_eq!(writer.failing(), None, "the probe leaves no trace");
        assert_eq!(count(&db), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_wait_out_another_process_holding_the_database() {
        let (dir, db, bus, heard) = setup(Duration::from_millis(50));
        let writer = Writer::start(db.clone(), bus, Vec::new());
        let blocker = Connection::open(dir.path().join("t.db")).expect("second connection");
        blocker
            .execute_batch("BEGIN EXCLUSIVE")
            .expect("exclusive lock");
        let a = tokio::spawn({
            let writer = writer.clone();
            async move { writer.run(|tx| Ok(tx.emit(event(1))?)).await }
        });
        let b = tokio::spawn({
            let writer = writer.clone();
            async move { writer.run(|tx| Ok(tx.emit(event(2))?)).await }
        });
        // Past the busy timeout at least once: the writes are waiting, not dropped.
        tokio::time::timeout(Duration::from_secs(30), async {
            while db.busy_retries() == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("a retry");
        assert!(heard.0.lock().expect("lock").is_empty(), "nothing yet");
        blocker.execute_batch("ROLLBACK").expect("release");
        for write in [a, b] {
            write
                .await
                .expect("task")
                .expect("written once the lock is gone");
        }
        // The two were queued by two tasks, in either order.
        let heard = heard.0.lock().expect("lock").clone();
        assert_eq!(heard.len(), 2);
        assert!(heard.contains(&event(1)) && heard.contains(&event(2)));
    }
}
