//! A restart keeps checks, buckets and every monitor's state, and reports no fresh transition.

use std::time::Duration;

use crate::helpers::{Behavior, FakeSite, http_monitor, spawn_app};
use chrono::Utc;
use signalfire::db::checks;
use signalfire::domain::check::CheckResult;

const FAST: &str = "interval = \"1s\"\nfailures_before_down = 2\nsuccesses_before_up = 2\n";

async fn counts(app: &crate::helpers::TestApp, row: i64) -> (i64, i64) {
    app.state
        .db
        .read(move |c| {
            let raw = checks::count_for(c, row)?;
            let bucketed: i64 = c.query_row(
                "SELECT coalesce(sum(checks), 0) FROM uptime_daily WHERE monitor_id = ?1",
                [row],
                |r| r.get(0),
            )?;
            Ok((raw, bucketed))
        })
        .await
        .expect("counts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_checks_buckets_and_a_down_state() {
    let failing = FakeSite::start(Behavior::Status(503)).await;
    let up = FakeSite::start(Behavior::Ok("fine".into())).await;
    let app = spawn_app(
        &[
            http_monitor("failing", &failing.url(), FAST),
            http_monitor("up", &up.url(), FAST),
        ]
        .concat(),
    )
    .await;
    app.tick(Duration::from_secs(1)).await;
    app.tick(Duration::from_secs(1)).await;
    let down = app.component_status("failing").await.as_deref() == Some("major_outage")
        && app.component_status("up").await.as_deref() == Some("operational");
    assert!(down);
    let row = app.monitor().row;
    let before = counts(&app, row).await;
    assert!(
        before.0 >= 2 && before.1 >= 2,
        "checks were recorded: {before:?}"
    );

    let app = app.restart().await;
    // The first render after a restart comes from the database, before any new check.
    assert_eq!(
        app.component_status("failing").await.as_deref(),
        Some("major_outage")
    );
    assert_eq!(
        app.component_status("up").await.as_deref(),
        Some("operational")
    );
    let after = counts(&app, row).await;
    assert!(
        after.0 >= before.0 && after.1 >= before.1,
        "nothing lost: {before:?} -> {after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_down_monitor_reports_no_fresh_transition() {
    let never_fires = "cron = \"0 0 0 1 1 *\"\nfailures_before_down = 2\n";
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", never_fires)).await;
    let failure = || {
        CheckResult::down(
            Utc::now(),
            Duration::from_millis(3),
            "HTTP 503 Service Unavailable",
        )
    };
    let monitor = app.monitor();
    assert!(
        app.state
            .checker
            .apply(&monitor, failure())
            .await
            .expect("apply")
            .is_none()
    );
    let change = app
        .state
        .checker
        .apply(&monitor, failure())
        .await
        .expect("apply");
    assert!(change.is_some(), "second failure makes it down");
    let row = monitor.row;
    let before = counts(&app, row).await;

    let app = app.restart().await;
    assert_eq!(
        counts(&app, row).await,
        before,
        "checks and buckets survive the restart"
    );
    let monitor = app.monitor();
    assert_eq!(monitor.row, row, "the monitor keeps its row");
    let change = app
        .state
        .checker
        .apply(&monitor, failure())
        .await
        .expect("apply");
    assert!(
        change.is_none(),
        "still down after the restart: no new transition"
    );
    let up = CheckResult::up(Utc::now(), Duration::from_millis(3));
    assert!(
        app.state
            .checker
            .apply(&monitor, up.clone())
            .await
            .expect("apply")
            .is_none()
    );
    let recovered = app.state.checker.apply(&monitor, up).await.expect("apply");
    assert!(recovered.is_some(), "two successes bring it back up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_a_newer_signalfire_is_refused_at_start_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir_all(dir.path()).expect("data dir");
    let db = rusqlite::Connection::open(dir.path().join("signalfire.db")).expect("db");
    db.pragma_update(None, "user_version", 9_999)
        .expect("newer version");
    drop(db);
    let text = crate::helpers::test_config(dir.path(), "");
    let built = signalfire::startup::Application::build(crate::helpers::parse_config(&text)).await;
    let error = format!("{:#}", built.err().expect("refused"));
    assert!(
        error.contains("written by a newer signalfire") && error.contains("schema version 9999"),
        "{error}"
    );
    let version: i64 = rusqlite::Connection::open(dir.path().join("signalfire.db"))
        .expect("db")
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("version");
    assert_eq!(version, 9_999, "left untouched");
}
