//! Append-only schema migrations keyed on `PRAGMA user_version`. Never edit an old one.

use rusqlite::{Connection, OptionalExtension};

/// One step of the schema.
enum Migration {
    /// SQL run as it is.
    Sql(&'static str),
    /// These tables' `id INTEGER PRIMARY KEY` becomes `AUTOINCREMENT`: SQLite then never hands
    /// out an id again, also after the row with the highest id is deleted (SPEC §11). Every
    /// column, row, index and foreign key is kept: the table is rebuilt from its own stored
    /// definition (SQLite's 12-step procedure), so columns added by any earlier migration come
    /// along.
    NeverReuseIds(&'static [&'static str]),
    /// Rust, for what SQL cannot compute (IDNA), in the migration's transaction.
    Code(fn(&Connection) -> rusqlite::Result<()>),
}

use Migration::{Code, NeverReuseIds, Sql};

/// 14: each subscriber's mailbox key (`domain::mailbox::key`), which the one-mail-an-hour
/// sign-up limit looks up: every spelling of one address shares it.
fn subscriber_mailboxes(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE subscribers ADD COLUMN mailbox TEXT;
         CREATE INDEX subscribers_by_mailbox ON subscribers(mailbox);",
    )?;
    let rows: Vec<(i64, String)> = conn
        .prepare("SELECT id, email FROM subscribers")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set = conn.prepare("UPDATE subscribers SET mailbox = ?2 WHERE id = ?1")?;
    for (id, email) in rows {
        set.execute(rusqlite::params![id, crate::domain::mailbox::key(&email)])?;
    }
    Ok(())
}

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    // 1: monitors, raw checks, hourly and daily uptime buckets.
    Sql("CREATE TABLE monitors (
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
    ) WITHOUT ROWID;"),
    // 2: incidents and maintenances (one table, like Statuspage), their updates and components.
    Sql("ALTER TABLE monitors ADD COLUMN failing_since INTEGER;
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
    CREATE INDEX incident_components_by_monitor ON incident_components(monitor_id);"),
    // 3: heartbeat pings and the certificate expiry of the last check.
    Sql("ALTER TABLE monitors ADD COLUMN last_ping_at INTEGER;
    ALTER TABLE monitors ADD COLUMN last_ping_failed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE monitors ADD COLUMN cert_expires_at INTEGER;"),
    // 4: nothing reads raw checks by monitor (pages read buckets; retention deletes in id
    // order), so their index only cost space: about half of every raw check row.
    Sql("DROP INDEX checks_by_monitor;"),
    // 5: daily buckets keyed by day first: the page reads one window of days for every
    // monitor in one range scan, whose cost does not grow with the years of history.
    Sql("CREATE TABLE uptime_daily_by_day (
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
    ALTER TABLE uptime_daily_by_day RENAME TO uptime_daily;"),
    // 6: notifications. A notification is one message; a delivery is that message to one
    // recipient (a channel or a subscriber), written in the same transaction as its cause, with
    // every attempt kept. Subscribers, the components they follow, and their link tokens
    // (stored hashed only).
    Sql("CREATE TABLE notifications (
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
    CREATE INDEX attempts_by_delivery ON delivery_attempts(delivery_id);"),
    // 7: a subscriber's link token is made when the mail is sent and stored only hashed; the
    // outbox keeps no token in plain text.
    Sql("ALTER TABLE deliveries DROP COLUMN token;
    CREATE INDEX subscriber_tokens_by_age ON subscriber_tokens(created_at);"),
    // 8: a maintenance's iCalendar SEQUENCE (SPEC §8), raised whenever its times change — a
    // reschedule, a cancel, an early end — so calendar clients replace their copy. Windows
    // that already ended early have been revised once.
    Sql(
        "ALTER TABLE incidents ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
    UPDATE incidents SET sequence = 1
        WHERE kind = 'maintenance' AND resolved_at < scheduled_until;",
    ),
    // 9: background jobs (SPEC §9): the last success apart from the last ping (a failure or a
    // start may come after it), the run under way, the last run's duration and exit status,
    // and the recent pings with the first 10 KiB of what the job sent (the owner's eyes only).
    Sql("ALTER TABLE monitors ADD COLUMN last_success_at INTEGER;
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
    CREATE INDEX pings_by_monitor ON pings(monitor_id, id);"),
    // 10: owner reminders sent (SPEC §9), one row per incident and reminder, written in the
    // transaction that stages the reminder, so a restart never sends one twice. `anchor` is what
    // it was about: the update an `incident_without_update` reminder followed (a newer update
    // re-arms it), 0 for `recovered_but_open`.
    Sql("CREATE TABLE reminders (
        incident_id INTEGER NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        anchor INTEGER NOT NULL,
        sent_at INTEGER NOT NULL,
        PRIMARY KEY (incident_id, kind)
    ) WITHOUT ROWID;"),
    // 11: notification pacing (flap damping), written with the notification it paces: per
    // stream (`incident:{id}:subscribers`, `incident:{id}:channels`, `monitor:{key}`) when the
    // last message went or will go out, the held notification gathering what comes before
    // then, and a monitor's recent changes of health (ms, comma separated) and whether it flaps.
    Sql("CREATE TABLE pacing (
        key TEXT PRIMARY KEY,
        last_sent_at INTEGER,
        held_notification INTEGER,
        held_until INTEGER,
        held_from INTEGER,
        held_count INTEGER NOT NULL DEFAULT 0,
        changes TEXT NOT NULL DEFAULT '',
        flapping INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;"),
    // 12 (issue 19, figures; the 11th on its branch, renumbered at merge): uptime that stays
    // true (SPEC §11). A check inside a maintenance window of its monitor counts neither up nor
    // down: buckets count it apart, so a day spent in maintenance shows as maintenance. Daily
    // buckets are days of `[page] timezone`; `uptime_zone` says which zone they are keyed in
    // (UTC until now), so a change of zone re-keys the days the hourly buckets still cover.
    // Every check asks whether an unfinished maintenance covers its monitor: those few rows
    // get an index of their own.
    Sql(
        "ALTER TABLE uptime_hourly ADD COLUMN maintenance INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE uptime_daily ADD COLUMN maintenance INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE uptime_zone (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        timezone TEXT NOT NULL
    );
    INSERT INTO uptime_zone (id, timezone) VALUES (1, 'UTC');
    CREATE INDEX maintenances_unfinished ON incidents(scheduled_until)
        WHERE kind = 'maintenance' AND status != 'completed';",
    ),
    // 13 (the 11th on its branch, renumbered at merge): ids that end up public — incidents and maintenances (one table), their updates
    // (feed guids, `/incidents/{id}`, mail threads, webhook bodies), subscribers, and
    // notifications — are never handed out twice, also after the newest is deleted (SPEC §11).
    NeverReuseIds(&[
        "incidents",
        "incident_updates",
        "subscribers",
        "notifications",
    ]),
    // 14 (the 12th on its branch): see `subscriber_mailboxes`.
    Code(subscriber_mailboxes),
    // 15 (the 11th on its branch, renumbered at merge): subscribers who follow every component, marked (kept by `set_components`), so a
    // notification finds its recipients through indexes — those following its components, and
    // these — instead of looking at every subscriber: a mass outage on a site with 1,000
    // subscribers read 1,000 rows per message.
    Sql(
        "ALTER TABLE subscribers ADD COLUMN follows_all INTEGER NOT NULL DEFAULT 1;
    UPDATE subscribers SET follows_all = NOT EXISTS
        (SELECT 1 FROM subscriber_components c WHERE c.subscriber_id = subscribers.id);
    CREATE INDEX subscribers_following_all ON subscribers(id)
        WHERE follows_all = 1 AND confirmed_at IS NOT NULL;",
    ),
    // 16: two reads on paths a stranger or a mass outage drives, through indexes: a sign-up's
    // "one mail an hour per mailbox" (the mailbox's deliveries; a subscriber's deletion
    // cascades through the same index) and, on every change of a monitor's health, its last
    // automatic incident (may an outage back soon reopen it?).
    Sql(
        "CREATE INDEX deliveries_by_subscriber ON deliveries(subscriber_id, created_at)
        WHERE subscriber_id IS NOT NULL;
    CREATE INDEX incidents_by_monitor ON incidents(monitor_id, id) WHERE kind = 'incident';",
    ),
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
    #[error("migration {version}: {problem}")]
    Schema { version: i64, problem: String },
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
    for (index, step) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        apply(conn, step, index as i64 + 1)?;
    }
    Ok(())
}

/// Runs one migration in its own transaction and records `version`.
fn apply(conn: &mut Connection, step: &Migration, version: i64) -> Result<(), MigrationError> {
    match step {
        Sql(sql) => {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()?;
            Ok(())
        }
        Code(run) => {
            let tx = conn.transaction()?;
            run(&tx)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()?;
            Ok(())
        }
        NeverReuseIds(tables) => {
            // Foreign keys are off while tables are rebuilt: with them on, dropping the old
            // table would delete every row that refers to it (ON DELETE CASCADE). The pragma
            // does nothing inside a transaction, so it is set around it, and the references
            // are checked before the commit instead.
            let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
            conn.pragma_update(None, "foreign_keys", false)?;
            let rebuilt = rebuild_all(conn, tables, version);
            conn.pragma_update(None, "foreign_keys", enforced)?;
            rebuilt
        }
    }
}

fn rebuild_all(conn: &mut Connection, tables: &[&str], version: i64) -> Result<(), MigrationError> {
    let tx = conn.transaction()?;
    for table in tables {
        with_autoincrement(&tx, table, version)?;
    }
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    if let Some(table) = broken {
        return Err(MigrationError::Schema {
            version,
            problem: format!("a row of {table} refers to a row that is not there"),
        });
    }
    tx.pragma_update(None, "user_version", version)?;
    tx.commit()?;
    Ok(())
}

/// Rebuilds `table` from its stored definition with `AUTOINCREMENT` on its `id`, keeping its
/// rows, ids, indexes and the foreign keys pointing at it (other tables name it, not its
/// storage). SQLite's `sqlite_sequence` starts at the highest id copied.
fn with_autoincrement(tx: &Connection, table: &str, version: i64) -> Result<(), MigrationError> {
    const KEY: &str = "id INTEGER PRIMARY KEY,";
    let schema = |problem: String| MigrationError::Schema { version, problem };
    let sql: String = tx
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .optional()?
        .ok_or_else(|| schema(format!("there is no table {table}")))?;
    if sql.contains("AUTOINCREMENT") {
        return Ok(());
    }
    let columns = sql
        .split_once('(')
        .map(|(_, columns)| columns)
        .filter(|columns| columns.matches(KEY).count() == 1)
        .ok_or_else(|| schema(format!("the table {table} has no \"{KEY}\" column")))?;
    let indexes: Vec<String> = tx
        .prepare(
            "SELECT sql FROM sqlite_master
             WHERE type IN ('index', 'trigger') AND tbl_name = ?1 AND sql IS NOT NULL",
        )?
        .query_map([table], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let new = format!("{table}_autoincrement");
    let columns = columns.replacen(KEY, "id INTEGER PRIMARY KEY AUTOINCREMENT,", 1);
    tx.execute_batch(&format!(
        "CREATE TABLE {new} ({columns};
         INSERT INTO {new} SELECT * FROM {table};
         DROP TABLE {table};
         ALTER TABLE {new} RENAME TO {table};"
    ))?;
    for index in indexes {
        tx.execute_batch(&index)?;
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
        for (index, step) in MIGRATIONS[..7].iter().enumerate() {
            apply(&mut conn, step, index as i64 + 1).expect("old migration");
        }
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

    fn ids(conn: &Connection, sql: &str) -> Vec<i64> {
        conn.prepare(sql)
            .expect("query")
            .query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("ids")
    }

    /// A database of version 10 with two incidents (the newer with an update, a component and
    /// a reminder), a subscriber with a token, and a notification with its delivery.
    fn old_database() -> Connection {
        let mut conn = Connection::open_in_memory().expect("memory db");
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .expect("pragma");
        for (index, step) in MIGRATIONS[..10].iter().enumerate() {
            apply(&mut conn, step, index as i64 + 1).expect("old migration");
        }
        conn.execute_batch(
            "INSERT INTO monitors (id, key, name, kind, target, position, created_at, updated_at)
                 VALUES (1, 'blog', 'Blog', 'http', 'x', 0, 0, 0);
             INSERT INTO incidents (id, kind, name, status, impact, created_at, updated_at, started_at) VALUES
                 (4, 'incident', 'old', 'resolved', 'minor', 0, 0, 0),
                 (7, 'maintenance', 'new', 'scheduled', 'none', 0, 0, 0);
             INSERT INTO incident_updates (id, incident_id, status, body, body_html, created_at, display_at)
                 VALUES (9, 7, 'scheduled', 'b', '<p>b</p>', 0, 0);
             INSERT INTO update_components VALUES (9, 1, 'operational', 'under_maintenance');
             INSERT INTO incident_components VALUES (7, 1, 'under_maintenance');
             INSERT INTO reminders VALUES (7, 'recovered_but_open', 0, 0);
             INSERT INTO subscribers (id, email, created_at) VALUES (3, 'a@test.example', 0);
             INSERT INTO subscriber_components VALUES (3, 1);
             INSERT INTO subscriber_tokens VALUES (x'00', 3, 'confirm', 0);
             INSERT INTO notifications (id, event, message, created_at) VALUES (5, 'e', '{}', 0);
             INSERT INTO deliveries (id, notification_id, subscriber_id, state, next_attempt_at, created_at)
                 VALUES ('msg_1', 5, 3, 'pending', 0, 0);",
        )
        .expect("rows");
        conn
    }

    #[test]
    fn a_migrated_database_keeps_its_rows_ids_and_references_and_never_reuses_an_id() {
        let mut conn = old_database();
        migrate(&mut conn).expect("migrates");
        let enforced: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .expect("pragma");
        assert!(enforced, "foreign keys are enforced again");
        assert_eq!(ids(&conn, "SELECT id FROM incidents ORDER BY id"), [4, 7]);
        assert_eq!(ids(&conn, "SELECT incident_id FROM incident_updates"), [7]);
        assert_eq!(ids(&conn, "SELECT update_id FROM update_components"), [9]);
        assert_eq!(ids(&conn, "SELECT incident_id FROM reminders"), [7]);
        assert_eq!(
            ids(&conn, "SELECT subscriber_id FROM subscriber_tokens"),
            [3]
        );
        assert_eq!(ids(&conn, "SELECT notification_id FROM deliveries"), [5]);
        let indexes = ids(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
                 ('incidents_by_kind_time', 'incidents_open', 'updates_by_incident', 'updates_by_time')",
        );
        assert_eq!(indexes, [4], "the indexes are kept");

        // The newest of each goes; the next one gets a larger id all the same.
        conn.execute_batch(
            "DELETE FROM incidents WHERE id = 7;
             DELETE FROM subscribers WHERE id = 3;
             DELETE FROM notifications WHERE id = 5;",
        )
        .expect("deletes");
        assert_eq!(
            ids(&conn, "SELECT count(*) FROM incident_updates"),
            [0],
            "cascades still work"
        );
        assert_eq!(ids(&conn, "SELECT count(*) FROM deliveries"), [0]);
        conn.execute_batch(
            "INSERT INTO incidents (kind, name, status, impact, created_at, updated_at, started_at)
                 VALUES ('incident', 'next', 'investigating', 'minor', 0, 0, 0);
             INSERT INTO incident_updates (incident_id, status, body, body_html, created_at, display_at)
                 VALUES (8, 'investigating', 'b', 'b', 0, 0);
             INSERT INTO subscribers (email, created_at) VALUES ('b@test.example', 0);
             INSERT INTO notifications (event, message, created_at) VALUES ('e', '{}', 0);",
        )
        .expect("inserts");
        assert_eq!(ids(&conn, "SELECT max(id) FROM incidents"), [8]);
        assert_eq!(ids(&conn, "SELECT max(id) FROM incident_updates"), [10]);
        assert_eq!(ids(&conn, "SELECT max(id) FROM subscribers"), [4]);
        assert_eq!(ids(&conn, "SELECT max(id) FROM notifications"), [6]);
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

    /// What a stranger's sign-up and every change of a monitor's health read goes through an
    /// index (a scan of deliveries or incidents grows with the years).
    #[test]
    fn hot_reads_go_through_indexes() {
        let mut conn = Connection::open_in_memory().expect("db");
        migrate(&mut conn).expect("migrate");
        // Without their indexes SQLite walks `deliveries_by_state` or every incident of the
        // kind: searches in name, scans in cost. The plan must name the index made for it.
        for (sql, index) in [
            (
                crate::db::subscribers::LAST_MAIL_TO_MAILBOX.to_string(),
                "deliveries_by_subscriber",
            ),
            (
                crate::db::incidents::last_resolved_sql(),
                "incidents_by_monitor",
            ),
        ] {
            let plan = crate::db::query_plan(&conn, &sql).expect("plan");
            assert!(
                plan.contains(index) && !plan.contains("SCAN") && !plan.contains("AUTOMATIC"),
                "{sql}: {plan}"
            );
        }
    }
}
