//! Append-only schema migrations keyed on `PRAGMA user_version`. Never edit an old one.

use rusqlite::Connection;

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: monitors, raw checks, hourly and daily uptime buckets.
    "CREATE TABLE monitors (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        group_name TEXT,
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        position INTEGER NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        health TEXT NOT NULL DEFAULT 'unknown',
        health_since INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        consecutive_successes INTEGER NOT NULL DEFAULT 0,
        last_check_at INTEGER,
        last_verdict INTEGER,
        last_response_ms INTEGER,
        last_reason TEXT
    );
    CREATE TABLE checks (
        id INTEGER PRIMARY KEY,
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        at INTEGER NOT NULL,
        verdict INTEGER NOT NULL,
        response_ms INTEGER NOT NULL,
        reason TEXT
    );
    CREATE INDEX checks_by_monitor ON checks(monitor_id, at);
    CREATE TABLE uptime_hourly (
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        hour INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        successes INTEGER NOT NULL,
        response_sum_ms INTEGER NOT NULL,
        response_min_ms INTEGER NOT NULL,
        response_max_ms INTEGER NOT NULL,
        PRIMARY KEY (monitor_id, hour)
    ) WITHOUT ROWID;
    CREATE TABLE uptime_daily (
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        day INTEGER NOT NULL,
        checks INTEGER NOT NULL,
        successes INTEGER NOT NULL,
        response_sum_ms INTEGER NOT NULL,
        response_min_ms INTEGER NOT NULL,
        response_max_ms INTEGER NOT NULL,
        PRIMARY KEY (monitor_id, day)
    ) WITHOUT ROWID;",
    // 2: incidents and maintenances (one table, like Statuspage), their updates and components.
    "ALTER TABLE monitors ADD COLUMN failing_since INTEGER;
    CREATE TABLE incidents (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        impact TEXT NOT NULL,
        monitor_id INTEGER REFERENCES monitors(id),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        monitoring_at INTEGER,
        resolved_at INTEGER,
        scheduled_for INTEGER,
        scheduled_until INTEGER
    );
    CREATE INDEX incidents_by_kind_time ON incidents(kind, started_at);
    CREATE INDEX incidents_open ON incidents(resolved_at) WHERE resolved_at IS NULL;
    CREATE TABLE incident_updates (
        id INTEGER PRIMARY KEY,
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        body TEXT NOT NULL,
        body_html TEXT NOT NULL,
        automatic INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        display_at INTEGER NOT NULL
    );
    CREATE INDEX updates_by_incident ON incident_updates(incident_id, display_at);
    CREATE INDEX updates_by_time ON incident_updates(display_at);
    CREATE TABLE update_components (
        update_id INTEGER NOT NULL REFERENCES incident_updates(id) ON DELETE CASCADE,
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        old_status TEXT NOT NULL,
        new_status TEXT NOT NULL,
        PRIMARY KEY (update_id, monitor_id)
    ) WITHOUT ROWID;
    CREATE TABLE incident_components (
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        status TEXT NOT NULL,
        PRIMARY KEY (incident_id, monitor_id)
    ) WITHOUT ROWID;
    CREATE INDEX incident_components_by_monitor ON incident_components(monitor_id);",
    // 3: heartbeat pings and the certificate expiry of the last check.
    "ALTER TABLE monitors ADD COLUMN last_ping_at INTEGER;
    ALTER TABLE monitors ADD COLUMN last_ping_failed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE monitors ADD COLUMN cert_expires_at INTEGER;",
    // 4: nothing reads raw checks by monitor (pages read buckets; retention deletes in id
    // order), so their index only cost space: about half of every raw check row.
    "DROP INDEX checks_by_monitor;",
    // 5: daily buckets keyed by day first: the page reads one window of days for every
    // monitor in one range scan, whose cost does not grow with the years of history.
    "CREATE TABLE uptime_daily_by_day (
        day INTEGER NOT NULL,
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        checks INTEGER NOT NULL,
        successes INTEGER NOT NULL,
        response_sum_ms INTEGER NOT NULL,
        response_min_ms INTEGER NOT NULL,
        response_max_ms INTEGER NOT NULL,
        PRIMARY KEY (day, monitor_id)
    ) WITHOUT ROWID;
    INSERT INTO uptime_daily_by_day
        SELECT day, monitor_id, checks, successes, response_sum_ms, response_min_ms, response_max_ms
        FROM uptime_daily;
    DROP TABLE uptime_daily;
    ALTER TABLE uptime_daily_by_day RENAME TO uptime_daily;",
    // 6: notifications. A notification is one message; a delivery is that message to one
    // recipient (a channel or a subscriber), written in the same transaction as its cause, with
    // every attempt kept. Subscribers, the components they follow, and their link tokens
    // (stored hashed only).
    "CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        event TEXT NOT NULL,
        message TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        confirmed_at INTEGER,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE subscriber_components (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        PRIMARY KEY (subscriber_id, monitor_id)
    ) WITHOUT ROWID;
    CREATE INDEX subscriber_components_by_monitor ON subscriber_components(monitor_id);
    CREATE TABLE subscriber_tokens (
        token_sha256 BLOB PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
        purpose TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX subscriber_tokens_by_subscriber ON subscriber_tokens(subscriber_id, created_at);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
        channel TEXT,
        subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE CASCADE,
        token TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        done_at INTEGER
    );
    CREATE INDEX deliveries_pending ON deliveries(next_attempt_at) WHERE state = 'pending';
    CREATE INDEX deliveries_by_state ON deliveries(state, created_at);
    CREATE INDEX deliveries_by_notification ON deliveries(notification_id);
    CREATE TABLE delivery_attempts (
        id INTEGER PRIMARY KEY,
        delivery_id TEXT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        status TEXT,
        error TEXT,
        duration_ms INTEGER NOT NULL
    );
    CREATE INDEX attempts_by_delivery ON delivery_attempts(delivery_id);",
    // 7: a subscriber's link token is made when the mail is sent and stored only hashed; the
    // outbox keeps no token in plain text.
    "ALTER TABLE deliveries DROP COLUMN token;
    CREATE INDEX subscriber_tokens_by_age ON subscriber_tokens(created_at);",
    // 8: a maintenance's iCalendar SEQUENCE (SPEC §8), raised whenever its times change — a
    // reschedule, a cancel, an early end — so calendar clients replace their copy. Windows
    // that already ended early have been revised once.
    "ALTER TABLE incidents ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
    UPDATE incidents SET sequence = 1
        WHERE kind = 'maintenance' AND resolved_at < scheduled_until;",
    // 9: background jobs (SPEC §9): the last success apart from the last ping (a failure or a
    // start may come after it), the run under way, the last run's duration and exit status,
    // and the recent pings with the first 10 KiB of what the job sent (the owner's eyes only).
    "ALTER TABLE monitors ADD COLUMN last_success_at INTEGER;
    ALTER TABLE monitors ADD COLUMN run_started_at INTEGER;
    ALTER TABLE monitors ADD COLUMN last_exit_status INTEGER;
    ALTER TABLE monitors ADD COLUMN last_run_ms INTEGER;
    UPDATE monitors SET last_success_at = last_ping_at WHERE last_ping_failed = 0;
    CREATE TABLE pings (
        id INTEGER PRIMARY KEY,
        monitor_id INTEGER NOT NULL REFERENCES monitors(id),
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        exit_status INTEGER,
        duration_ms INTEGER,
        body TEXT
    );
    CREATE INDEX pings_by_monitor ON pings(monitor_id, id);",
    // 10: owner reminders sent (SPEC §9), one row per incident and reminder, written in the
    // transaction that stages the reminder, so a restart never sends one twice. `anchor` is what
    // it was about: the update an `incident_without_update` reminder followed (a newer update
    // re-arms it), 0 for `recovered_but_open`.
    "CREATE TABLE reminders (
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        anchor INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (incident_id, kind)
    ) WITHOUT ROWID;",
    // 11: subscribers who follow every component, marked (kept by `set_components`), so a
    // notification finds its recipients through indexes — those following its components, and
    // these — instead of looking at every subscriber: a mass outage on a site with 1,000
    // subscribers read 1,000 rows per message.
    "ALTER TABLE subscribers ADD COLUMN follows_all INTEGER NOT NULL DEFAULT 1;
    UPDATE subscribers SET follows_all = NOT EXISTS
        (SELECT 1 FROM subscriber_components c WHERE c.subscriber_id = subscribers.id);
    CREATE INDEX subscribers_following_all ON subscribers(id)
        WHERE follows_all = 1 AND confirmed_at IS NOT NULL;",
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Why a database cannot be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error(
        "this database was written by a newer signalfire (schema version {found}; this build knows \
         versions up to {known}): run that newer signalfire, or restore a backup made by this version"
    )]
    Newer { found: i64, known: i64 },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Applies every pending migration, each in its own transaction. A database from a newer
/// signalfire is refused untouched: this build would misread what it does not know.
pub fn migrate(conn: &mut Connection) -> Result<(), MigrationError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest_version() {
        return Err(MigrationError::Newer {
            found: current,
            known: latest_version(),
        });
    }
    if current == 0 {
        // Only possible before the first table exists: lets retention hand pages back.
        conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL;")?;
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_an_empty_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        migrate(&mut conn).expect("first migration");
        migrate(&mut conn).expect("second run is a no-op");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, latest_version());
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )
            .expect("tables");
        assert!(tables >= 4);
    }

    #[test]
    fn maintenances_that_ended_early_start_at_sequence_one() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        for sql in &MIGRATIONS[..7] {
            conn.execute_batch(sql).expect("old migration");
        }
        conn.pragma_update(None, "user_version", 7)
            .expect("version");
        // Ended early (cancelled or completed by the owner), ended on the clock, still open.
        conn.execute_batch(
            "INSERT INTO incidents (id, kind, name, status, impact, created_at, updated_at, started_at,
                                    resolved_at, scheduled_for, scheduled_until) VALUES
                (1, 'maintenance', 'a', 'completed', 'none', 0, 0, 100, 50, 100, 200),
                (2, 'maintenance', 'b', 'completed', 'none', 0, 0, 100, 201, 100, 200),
                (3, 'maintenance', 'c', 'scheduled', 'none', 0, 0, 100, NULL, 100, 200),
                (4, 'incident', 'd', 'resolved', 'minor', 0, 0, 100, 150, NULL, NULL);",
        )
        .expect("rows");
        migrate(&mut conn).expect("migrates");
        let sequences: Vec<i64> = conn
            .prepare("SELECT sequence FROM incidents ORDER BY id")
            .expect("query")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("sequences");
        assert_eq!(sequences, [1, 0, 0, 0]);
    }

    #[test]
    fn a_database_from_a_newer_signalfire_is_refused_untouched() {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .expect("version");
        let error = migrate(&mut conn).expect_err("refused").to_string();
        assert!(
            error.contains("written by a newer signalfire") && error.contains("restore a backup"),
            "{error}"
        );
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .expect("tables");
        assert_eq!(tables, 0);
    }
}
