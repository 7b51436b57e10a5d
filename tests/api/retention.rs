//! Retention keeps the page honest and small; the page never needs the database.

use std::time::Duration;

use chrono::{DateTime, Utc};
use scraper::{Html, Selector};
use signalfire::domain::check::CheckResult;

use crate::helpers::{TestApp, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    app.state
        .db
        .read(move |c| Ok(c.query_row(sql, [], |r| r.get(0))?))
        .await
        .expect("count")
}

/// One check per `(days ago, up)`, through the same path as live checks.
async fn checks_at(app: &TestApp, checks: &[(i64, bool)]) {
    let monitor = app.monitor();
    for (days, up) in checks {
        let at: DateTime<Utc> =
            Utc::now() - chrono::Duration::days(*days) - chrono::Duration::minutes(5);
        let result = if *up {
            CheckResult::up(at, Duration::from_millis(80))
        } else {
            CheckResult::down(
                at,
                Duration::from_millis(80),
                "HTTP 500 Internal Server Error",
            )
        };
        app.state
            .checker
            .apply(&monitor, result)
            .await
            .expect("apply");
    }
}

fn bars(html: &str) -> Vec<(String, String)> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse("ol.bars > li").expect("selector");
    doc.select(&selector)
        .map(|li| {
            (
                li.value().attr("class").unwrap_or_default().to_string(),
                li.text().collect::<String>(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_only_old_checks_and_keeps_every_bucket() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    checks_at(
        &app,
        &[
            (100, true),
            (30, false),
            (10, true),
            (8, true),
            (6, true),
            (1, false),
            (0, true),
        ],
    )
    .await;
    assert_eq!(count(&app, "SELECT count(*) FROM checks").await, 7);
    let daily_before = count(&app, "SELECT count(*) FROM uptime_daily").await;
    let hourly_before = count(&app, "SELECT count(*) FROM uptime_hourly").await;

    let report = app
        .state
        .scheduler
        .housekeeping()
        .apply_retention(Utc::now())
        .await
        .expect("retention");
    assert_eq!(report.checks_deleted, 4, "the checks older than 7 days");
    assert_eq!(count(&app, "SELECT count(*) FROM checks").await, 3);
    let oldest_left: i64 = count(&app, "SELECT min(at) FROM checks").await;
    assert!(oldest_left >= (Utc::now() - chrono::Duration::days(7)).timestamp_millis());
    assert_eq!(
        count(&app, "SELECT count(*) FROM uptime_daily").await,
        daily_before,
        "daily buckets stay forever"
    );
    assert_eq!(
        report.hours_deleted, 1,
        "only the hourly bucket older than 90 days"
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM uptime_hourly").await,
        hourly_before - 1
    );

    let again = app
        .state
        .scheduler
        .housekeeping()
        .apply_retention(Utc::now())
        .await
        .expect("retention");
    assert_eq!(
        (again.checks_deleted, again.hours_deleted),
        (0, 0),
        "nothing more to delete"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_the_same_bars_after_retention() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let history: Vec<(i64, bool)> = (0..40)
        .flat_map(|d| [(d, true), (d, d % 4 != 0), (d, true)])
        .collect();
    checks_at(&app, &history).await;
    app.render().await;
    let before = bars(&app.get("/").await.text().await.expect("page"));
    assert_eq!(before.len(), 90);

    let report = app
        .state
        .scheduler
        .housekeeping()
        .apply_retention(Utc::now())
        .await
        .expect("retention");
    assert!(report.checks_deleted > 90, "{report:?}");
    app.render().await;
    let after = bars(&app.get("/").await.text().await.expect("page"));
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_the_public_pages_reads_nothing_from_the_database_even_while_it_is_locked() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let path = app.state.config.database_path();
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let locker = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(path).expect("open");
        conn.execute_batch("BEGIN EXCLUSIVE; UPDATE monitors SET name = name;")
            .expect("lock the database");
        locked_tx.send(()).expect("signal");
        // Held until the requests are done.
        let _ = done_rx.recv();
        drop(conn);
    });
    locked_rx.recv().expect("locked");

    let reads_before = app.state.db.reads();
    for _ in 0..20 {
        for path in [
            "/",
            "/api/v2/summary.json",
            "/api/v2/status.json",
            "/feed.rss",
            "/feed.atom",
            "/badge/blog.svg",
        ] {
            let started = std::time::Instant::now();
            let response = app.get(path).await;
            assert_eq!(response.status(), 200, "{path} is served from memory");
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{path} did not wait for the lock"
            );
        }
    }
    assert_eq!(
        app.state.db.reads(),
        reads_before,
        "120 requests, no database read"
    );
    drop(done_tx);
    locker.join().expect("locker");
}
