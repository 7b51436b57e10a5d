//! SQLite storage: one writer connection, a small pool of readers, WAL.
//!
//! rusqlite is blocking, so every call goes through [`Db::read`] or [`Db::write`], which run
//! it on tokio's blocking pool, never on the async executor threads.

pub mod backup;
pub mod checks;
pub mod feed;
pub mod incidents;
pub mod migrations;
pub mod monitors;
pub mod outbox;
pub mod pacing;
pub mod page;
pub mod pings;
pub mod reminders;
pub mod subscribers;
pub mod uptime;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

/// How long a connection waits for a lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// After the busy timeout, a write waits this long before it tries again.
const BUSY_RETRY_PAUSE: Duration = Duration::from_secs(1);
/// Readers in the pool: the page renderer, health checks and admin reads.
const READERS: u32 = 4;

/// The threads r2d2 opens connections and reaps idle ones on, shared by every reader pool of
/// the process. A pool of its own each would outlive its pool: a dropped pool's threads wait
/// for the next reaper run (30 s), so every reload left three threads behind for that long.
fn pool_threads() -> Arc<scheduled_thread_pool::ScheduledThreadPool> {
    static THREADS: std::sync::OnceLock<Arc<scheduled_thread_pool::ScheduledThreadPool>> =
        std::sync::OnceLock::new();
    THREADS
        .get_or_init(|| {
            Arc::new(
                scheduled_thread_pool::ScheduledThreadPool::builder()
                    .num_threads(2)
                    .thread_name_pattern("r2d2-worker-{}")
                    .build(),
            )
        })
        .clone()
}

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    /// Reads since start: tests prove with it that serving pages reads nothing.
    reads: Arc<AtomicU64>,
    busy_retries: Arc<AtomicU64>,
}

/// True for "database is locked" and "database table is locked".
/// Prepared statements kept per connection. The write path of one change (check row, buckets,
/// state, incident policy, outbox) runs about 40 different statements; with rusqlite's default
/// of 16 they pushed each other out and a fifth of a mass outage's CPU went to re-parsing SQL.
const STATEMENT_CACHE: usize = 128;

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn configure(conn: &Connection, busy: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(busy)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;",
    )
}

impl Db {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        Self::open_with_busy_timeout(path, BUSY_TIMEOUT)
    }

    /// [`Db::open`], waiting at most `busy` for a lock held by another connection.
    pub fn open_with_busy_timeout(path: &Path, busy: Duration) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        }
        let mut writer = Connection::open(path)
            .with_context(|| format!("cannot open the database {}", path.display()))?;
        configure(&writer, busy).context("cannot configure the database connection")?;
        migrations::migrate(&mut writer)
            .with_context(|| format!("cannot migrate the database {}", path.display()))?;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(move |c| {
                c.busy_timeout(busy)?;
                c.execute_batch("PRAGMA foreign_keys = ON;")?;
                // A first read opens the write-ahead log now, not at some later read: every
                // reader holds the same files from its start (a reload's open files stay put).
                c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            });
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(READERS))
            .connection_timeout(BUSY_TIMEOUT)
            .thread_pool(pool_threads())
            .build(manager)
            .context("cannot open database readers")?;
        Ok(Self {
            path: path.to_path_buf(),
            writer: Arc::new(Mutex::new(writer)),
            readers,
            reads: Arc::default(),
            busy_retries: Arc::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on a reader connection in one read transaction, off the async executor: every
    /// query in `f` sees the same committed state, however many writes commit meanwhile.
    pub async fn read<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f))
            .await
            .context("database reader task failed")?
    }

    /// Runs `f` in one write transaction, off the async executor; commits when it returns Ok.
    pub async fn write<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .context("database writer task failed")?
    }

    /// [`Db::read`] for code that is already on a blocking thread (CLI commands, tests).
    pub fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let conn = self.readers.get().context("no database reader available")?;
        let snapshot = conn
            .unchecked_transaction()
            .context("cannot begin a read transaction")?;
        // Read-only: ending it by rollback (on drop) releases the snapshot all the same.
        f(&snapshot)
    }

    /// [`Db::write`] for code that is already on a blocking thread (the writer, CLI commands).
    /// When another process holds the database past the busy timeout (a backup tool, an
    /// `sqlite3` shell), beginning is retried until it can: a write is delayed, never dropped.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        // A panic mid-write left its transaction open: roll it back before anything else.
        if !conn.is_autocommit() {
            conn.prepare_cached("ROLLBACK")?.execute([])?;
        }
        let mut f = Some(f);
        let mut waited = Duration::ZERO;
        loop {
            // BEGIN, COMMIT and ROLLBACK are prepared once: every check's write runs them.
            match conn
                .prepare_cached("BEGIN IMMEDIATE")
                .and_then(|mut s| s.execute([]))
            {
                Ok(_) => {
                    let f = f.take().context("a write ran twice")?;
                    let written = f(&conn).and_then(|value| {
                        conn.prepare_cached("COMMIT")
                            .and_then(|mut s| s.execute([]))
                            .context("cannot commit a write transaction")?;
                        Ok(value)
                    });
                    if written.is_err() && !conn.is_autocommit() {
                        conn.prepare_cached("ROLLBACK")?.execute([])?;
                    }
                    return written;
                }
                Err(e) if is_busy(&e) => {
                    self.busy_retries.fetch_add(1, Ordering::Relaxed);
                    if waited.as_secs().is_multiple_of(60) {
                        tracing::warn!(
                            waited_s = waited.as_secs(),
                            "the database is locked by another process; writes wait and are retried"
                        );
                    }
                    std::thread::sleep(BUSY_RETRY_PAUSE);
                    waited += BUSY_RETRY_PAUSE;
                }
                Err(e) => return Err(e).context("cannot begin a write transaction"),
            }
        }
    }

    /// How often beginning a write found the database locked by another process.
    pub fn busy_retries(&self) -> u64 {
        self.busy_retries.load(Ordering::Relaxed)
    }

    /// Hands free pages back to the file system and refreshes the query planner's statistics.
    /// Runs outside a transaction (incremental_vacuum cannot run inside one).
    pub async fn maintain(&self) -> anyhow::Result<()> {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = db.writer.lock().unwrap_or_else(|p| p.into_inner());
            conn.execute_batch("PRAGMA incremental_vacuum; PRAGMA optimize;")
                .context("database upkeep failed")
        })
        .await
        .context("database upkeep task failed")?
    }

    /// How many reads ran since start.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
            .await
            .is_ok()
    }
}

/// A small write that needs room (a table of 64 KiB, made and dropped in the transaction):
/// the writer's probe of whether the storage takes writes again after refusing them.
pub fn probe_write(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE signalfire_write_probe (room BLOB);
         INSERT INTO signalfire_write_probe VALUES (zeroblob(65536));
         DROP TABLE signalfire_write_probe;",
    )
}

/// Runs `f` inside a savepoint of the open transaction: its writes are kept when it returns
/// true and undone when it returns false.
pub fn in_savepoint(conn: &Connection, f: impl FnOnce() -> bool) -> rusqlite::Result<bool> {
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    let keep = f();
    if !keep {
        conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
    }
    conn.prepare_cached("RELEASE job")?.execute([])?;
    Ok(keep)
}

/// Times are stored as Unix milliseconds.
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// The query plan SQLite chooses for `sql` (every parameter NULL), its steps joined by "; ":
/// tests assert that a hot path reads through an index.
#[cfg(test)]
pub(crate) fn query_plan(conn: &Connection, sql: &str) -> rusqlite::Result<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let unbound = std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count());
    let details: Vec<String> = stmt
        .query_map(rusqlite::params_from_iter(unbound), |r| {
            r.get::<_, String>(3)
        })?
        .collect::<Result<_, _>>()?;
    Ok(details.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monitors(c: &Connection) -> rusqlite::Result<i64> {
        c.query_row("SELECT count(*) FROM monitors", [], |r| r.get(0))
    }

    #[test]
    fn a_read_sees_one_state_even_when_a_write_commits_during_it() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("t.db")).expect("db");
        let (before, after) = db
            .read_blocking(|c| {
                let before = monitors(c)?;
                db.write_blocking(|tx| {
                    tx.execute(
                        "INSERT INTO monitors (key, name, kind, target, position, created_at, updated_at)
                         VALUES ('blog', 'Blog', 'http', 'x', 0, 0, 0)",
                        [],
                    )?;
                    Ok(())
                })?;
                Ok((before, monitors(c)?))
            })
            .expect("read");
        assert_eq!((before, after), (0, 0), "a render never mixes two states");
        let now = db.read_blocking(|c| Ok(monitors(c)?)).expect("read");
        assert_eq!(now, 1);
    }
}
