//! Background jobs watched like cron (SPEC §9): runs expected on a schedule, pings that start,
//! succeed or fail with an exit status, the output a job sends (the owner's eyes only), and a
//! ping answered before the database is touched.

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use signalfire::db::pings;

use crate::browser::Browser;
use crate::config_cli::check_config;
use crate::helpers::{ADMIN_PASSWORD, TestApp, spawn_app};

const TOKEN: &str = "nightly-stats-token-0001";

fn job(keys: &str) -> String {
    format!(
        "[[monitor]]\nid = \"stats\"\nname = \"Statistics job\"\nkind = \"heartbeat\"\ntoken = \"{TOKEN}\"\n{keys}"
    )
}

/// Pings `/ping/{TOKEN}{suffix}` (a POST with `body` when given); the status.
async fn ping(app: &TestApp, suffix: &str, body: Option<String>) -> u16 {
    let url = format!("{}/ping/{TOKEN}{suffix}", app.address);
    let request = match body {
        Some(body) => app.client.post(url).body(body),
        None => app.client.get(url),
    };
    request.send().await.expect("ping").status().as_u16()
}

async fn status(app: &TestApp) -> String {
    app.component_status("stats").await.unwrap_or_default()
}

/// A time as reasons and the page write it (UTC here): "23:49", or "29 Nov 23:49" when `now`
/// is on another day (a test that runs across midnight).
fn clock(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M").to_string()
    } else {
        at.format("%-d %b %H:%M").to_string()
    }
}

/// Sets the clock, runs what is due, waits for the pages.
async fn at(app: &TestApp, when: DateTime<Utc>) {
    app.clock.set(when);
    app.state.scheduler.run_due().await.expect("due checks run");
    app.settle().await;
}

/// Holds the writer with a job that waits until the returned sender is used (or dropped);
/// returns once the writer is inside it.
async fn hold_the_writer(
    app: &TestApp,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (entered, inside) = tokio::sync::oneshot::channel::<()>();
    let writer = app.state.writer.clone();
    let holding = tokio::spawn(async move {
        writer
            .run(move |_| {
                let _ = entered.send(());
                let _ = held.recv();
                Ok(())
            })
            .await
    });
    inside.await.expect("the writer took the holding job");
    (release, holding)
}

/// The job's last pings as stored, newest first.
async fn stored_pings(app: &TestApp) -> Vec<pings::PingRow> {
    let row = app.state.roster.get("stats").expect("monitor").row;
    app.state
        .db
        .read(move |c| Ok(pings::recent(c, row, 5)?))
        .await
        .expect("pings")
}

/// The reason the open incident gives, from the public API.
async fn open_reason(app: &TestApp) -> String {
    let unresolved = app.get_json("/api/v2/incidents/unresolved.json").await;
    unresolved["incidents"][0]["incident_updates"][0]["body"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_every_minute_is_down_at_its_run_plus_grace_and_not_a_second_before() {
    let app = spawn_app(&job(
        "schedule = \"*/1 * * * *\"\ngrace = \"20s\"\ninterval = \"1s\"\n",
    ))
    .await;
    let minute = |t: DateTime<Utc>| {
        t.duration_trunc(TimeDelta::minutes(1)).expect("minute") + TimeDelta::minutes(1)
    };
    let first = minute(app.clock.now());
    // The first run reports 5 s late: within its grace.
    at(&app, first + TimeDelta::seconds(5)).await;
    assert_eq!(ping(&app, "", None).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "operational");

    // The next run is due a minute later and never reports: up to its grace, nothing.
    let second = first + TimeDelta::minutes(1);
    for s in 0..=20 {
        at(&app, second + TimeDelta::seconds(s)).await;
        assert_eq!(status(&app).await, "operational", "{s} s after the run");
    }
    at(&app, second + TimeDelta::seconds(21)).await;
    assert_eq!(status(&app).await, "major_outage");
    let reason = open_reason(&app).await;
    let expected = format!(
        "the {} run did not report by {} (UTC)",
        clock(second, app.clock.now()),
        clock(second + TimeDelta::seconds(20), app.clock.now())
    );
    assert!(reason.contains(&expected), "{reason:?} names {expected:?}");
    let page = app.get("/").await.text().await.expect("page");
    assert!(page.contains(&expected), "the page says why");

    // A ping brings it back, and the page says when it last ran and when it runs next.
    assert_eq!(ping(&app, "/0", None).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "operational");
    app.render().await;
    let page = app.get_html("/").await;
    let selector = scraper::Selector::parse("#component-stats .component__meta").expect("css");
    let meta: String = page
        .select(&selector)
        .next()
        .expect("the job's line")
        .text()
        .collect();
    let now = app.clock.now();
    assert!(
        meta.starts_with(&format!("Last run {} UTC", clock(now, now))),
        "{meta}"
    );
    assert!(
        meta.contains(&format!("next expected {} UTC", clock(minute(now), now))),
        "{meta}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_an_end_fails_after_max_runtime_and_exit_statuses_say_how_runs_ended() {
    let app = spawn_app(&job(
        "period = \"1h\"\ngrace = \"10m\"\nmax_runtime = \"30m\"\ninterval = \"1s\"\n",
    ))
    .await;
    // Times are stored to the millisecond: start on a whole second.
    let started = app
        .clock
        .now()
        .duration_trunc(TimeDelta::seconds(1))
        .expect("second");
    app.clock.set(started);
    assert_eq!(ping(&app, "/start", None).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "operational");
    at(&app, started + TimeDelta::minutes(30)).await;
    assert_eq!(status(&app).await, "operational", "at max_runtime exactly");
    at(
        &app,
        started + TimeDelta::minutes(30) + TimeDelta::seconds(1),
    )
    .await;
    assert_eq!(status(&app).await, "major_outage");
    let reason = open_reason(&app).await;
    assert!(
        reason.contains(&format!(
            "started {}, not finished after 30 min (UTC)",
            clock(started, app.clock.now())
        )),
        "{reason}"
    );

    // The next run: started, then ended with exit status 0 after 42 s.
    assert_eq!(ping(&app, "/start", None).await, 200);
    app.settle().await;
    app.clock.advance(Duration::from_secs(42));
    assert_eq!(ping(&app, "/0", None).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "operational");
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(
        metrics.contains("signalfire_job_duration_seconds{monitor=\"stats\"} 42.0"),
        "{metrics}"
    );
    assert!(metrics.contains("signalfire_job_runs_total{monitor=\"stats\",result=\"success\"} 1"));
    assert!(metrics.contains("signalfire_job_last_success_timestamp_seconds{monitor=\"stats\"}"));

    // Exit status 3: down, and it says so.
    let failed_at = app.clock.now();
    assert_eq!(ping(&app, "/3", None).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "major_outage");
    assert!(open_reason(&app).await.contains(&format!(
        "exit status 3 at {} (UTC)",
        clock(failed_at, failed_at)
    )));
    // Not a signal: 404, and nothing changes.
    for bad in ["/256", "/-1", "/started", "/0/0"] {
        assert_eq!(ping(&app, bad, None).await, 404, "{bad}");
    }
    assert_eq!(ping(&app, "", None).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "operational");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_output_is_kept_to_ten_kib_for_the_owner_and_never_shown_in_public() {
    let app = spawn_app(&job("grace = \"1h\"\n")).await;
    let mut log = String::from("SECRET-FIRST-LINE db password rotated\n");
    while log.len() < 10 * 1024 {
        log.push_str("rsync: building file list ... done, sent 1024 bytes\n");
    }
    log.truncate(10 * 1024);
    let mut body = log.clone();
    body.push_str("SECRET-BEYOND-10-KIB\n");
    while body.len() < 20 * 1024 {
        body.push_str("more output that is not kept\n");
    }
    assert_eq!(ping(&app, "/1", Some(body)).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "major_outage");

    // Kept: the first 10 KiB exactly, as sent.
    let stored = stored_pings(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, "fail");
    assert_eq!(stored[0].exit_status, Some(1));
    assert_eq!(stored[0].body.as_deref(), Some(log.as_str()));

    // The owner sees it on /admin/jobs.
    let mut browser = Browser::new(&app);
    assert_eq!(browser.login(ADMIN_PASSWORD).await.status, 303);
    let jobs = browser.get("/admin/jobs").await;
    assert_eq!(jobs.status, 200);
    assert!(jobs.body.contains("SECRET-FIRST-LINE"), "{}", jobs.body);
    assert!(jobs.body.contains("fail (exit 1)"));
    assert!(!jobs.body.contains("SECRET-BEYOND-10-KIB"));
    // Not without a session.
    let closed = app.get("/admin/jobs").await;
    assert!(!closed.text().await.expect("body").contains("SECRET"));

    // Nowhere public.
    app.render().await;
    let incident = app.get_json("/api/v2/incidents.json").await["incidents"][0]["id"]
        .as_str()
        .expect("an incident")
        .to_string();
    for path in [
        "/".to_string(),
        "/history".to_string(),
        format!("/incidents/{incident}"),
        "/feed.rss".to_string(),
        "/feed.atom".to_string(),
        "/feed.json".to_string(),
        "/components/stats/feed.json".to_string(),
        "/api/v2/summary.json".to_string(),
        "/api/v2/components.json".to_string(),
        "/api/v2/incidents.json".to_string(),
        "/widget.json".to_string(),
        "/embed".to_string(),
        "/badge/stats.svg".to_string(),
        "/metrics".to_string(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.expect("body");
        assert!(!text.contains("SECRET"), "{path} shows the job's output");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_is_answered_while_the_database_is_busy_and_written_after() {
    let app = spawn_app(&job("grace = \"1h\"\n")).await;
    let (release, holding) = hold_the_writer(&app).await;
    // Each is answered although nothing can be written (the test client gives up after its
    // timeout, so a ping that waited on the database would fail here).
    assert_eq!(ping(&app, "/start", None).await, 200);
    assert_eq!(ping(&app, "/0", None).await, 200);
    release.send(()).expect("release");
    holding.await.expect("task").expect("held job");
    app.settle().await;
    let stored = stored_pings(&app).await;
    let kinds: Vec<&str> = stored.iter().map(|p| p.kind.as_str()).collect();
    assert_eq!(kinds, ["success", "start"], "written in the order sent");
    assert!(stored[0].duration.is_some(), "the start measured the run");
    assert_eq!(status(&app).await, "operational");
}

#[test]
fn check_config_prints_the_next_three_runs_and_refuses_bad_schedules_with_their_place() {
    let (code, stdout, stderr) = check_config(&format!(
        "[page]\ntimezone = \"Asia/Tokyo\"\n\n{}",
        job("schedule = \"30 2 * * *\"\ngrace = \"1h\"\n")
    ));
    assert_eq!(code, 0, "{stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("next expected runs"))
        .expect("the runs");
    assert_eq!(line.matches("02:30 JST").count(), 3, "{line}");

    for (keys, place, words) in [
        (
            "schedule = \"0 30 2 * * *\"\ngrace = \"1h\"\n",
            "config.toml:6:12",
            "has 6 fields; write 5",
        ),
        (
            "schedule = \"30 2 * *\"\nperiod = \"1h\"\ngrace = \"1h\"\n",
            "config.toml:6:12",
            "either period or schedule",
        ),
        (
            "schedule = \"30 2 * * *\"\ntimezone = \"Mars/Olympus\"\ngrace = \"1h\"\n",
            "config.toml:7:12",
            "not an IANA time zone",
        ),
        (
            "period = \"soon\"\ngrace = \"1h\"\n",
            "config.toml:6:10",
            "period:",
        ),
        (
            "timezone = \"UTC\"\ngrace = \"1h\"\n",
            "config.toml:6:12",
            "timezone is for schedule",
        ),
        (
            "grace = \"1h\"\nmax_runtime = \"0s\"\n",
            "config.toml:7:15",
            "longer than 0s",
        ),
    ] {
        let (code, _, stderr) = check_config(&job(keys));
        assert_eq!(code, 2, "{keys}");
        assert!(
            stderr.contains(place) && stderr.contains(words),
            "{keys}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_never_overtakes_a_ping_answered_before_it() {
    let other = "other-job-token-000000001";
    let app = spawn_app(&format!(
        "{}[[monitor]]\nid = \"other\"\nkind = \"heartbeat\"\ntoken = \"{other}\"\ngrace = \"1h\"\n",
        job("schedule = \"*/1 * * * *\"\ngrace = \"20s\"\ninterval = \"1s\"\n")
    ))
    .await;
    let run = app
        .clock
        .now()
        .duration_trunc(TimeDelta::minutes(1))
        .expect("minute")
        + TimeDelta::minutes(1);
    at(&app, run + TimeDelta::seconds(19)).await;
    // The database is busy when the job reports, a second before its grace ends: the queue
    // has handed another job's ping to the writer and keeps this one waiting behind it.
    let (release, holding) = hold_the_writer(&app).await;
    let url = format!("{}/ping/{other}", app.address);
    assert_eq!(
        app.client.get(url).send().await.expect("ping").status(),
        200
    );
    assert_eq!(ping(&app, "", None).await, 200);
    // The deadline comes while the ping still waits to be written.
    app.clock.set(run + TimeDelta::seconds(30));
    let scheduler = app.state.scheduler.clone();
    let judging = tokio::spawn(async move { scheduler.run_due().await });
    release.send(()).expect("release");
    holding.await.expect("task").expect("held job");
    judging.await.expect("task").expect("due checks");
    app.settle().await;
    assert_eq!(
        status(&app).await,
        "operational",
        "the run reported in time"
    );
    assert!(
        app.get_json("/api/v2/incidents.json").await["incidents"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_too_long_to_read_still_reports_the_run() {
    let app = spawn_app(&job("grace = \"1h\"\n")).await;
    let mut body = String::from("LOG-HEAD all done\n");
    while body.len() < 2 * 1024 * 1024 {
        body.push_str("a very long log line that nobody will read in full\n");
    }
    assert_eq!(ping(&app, "/0", Some(body)).await, 200);
    app.settle().await;
    let stored = stored_pings(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].kind, "success");
    let kept = stored[0].body.as_deref().unwrap_or_default();
    assert!(kept.starts_with("LOG-HEAD") && kept.len() <= 10 * 1024);
    assert_eq!(status(&app).await, "operational");
}

/// Past its expected time a job is overdue, and the page and /admin/jobs say so rather than
/// "next expected" a time already gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_job_says_how_long_it_is_overdue_on_the_page_and_in_admin() {
    let app = spawn_app(&job(
        "schedule = \"*/5 * * * *\"\ngrace = \"4m\"\ninterval = \"1s\"\n",
    ))
    .await;
    let five = |t: DateTime<Utc>| {
        t.duration_trunc(TimeDelta::minutes(5))
            .expect("five minutes")
            + TimeDelta::minutes(5)
    };
    let first = five(app.clock.now());
    at(&app, first + TimeDelta::seconds(5)).await;
    assert_eq!(ping(&app, "", None).await, 200);
    app.settle().await;
    // The next run is due at `second`; 1 min 20 s later it has not reported (grace 4 min).
    let second = first + TimeDelta::minutes(5);
    at(&app, second + TimeDelta::seconds(80)).await;
    assert_eq!(status(&app).await, "operational", "within its grace");
    app.render().await;
    let page = app.get_html("/").await;
    let selector = scraper::Selector::parse("#component-stats .component__meta").expect("css");
    let meta: String = page
        .select(&selector)
        .next()
        .expect("the job's line")
        .text()
        .collect();
    let now = app.clock.now();
    let expected = format!("expected {} UTC, overdue by 1 min 20 s", clock(second, now));
    assert!(meta.contains(&expected), "{meta:?} says {expected:?}");
    assert!(!meta.contains("next expected"), "{meta}");

    let mut browser = Browser::new(&app);
    assert_eq!(browser.login(ADMIN_PASSWORD).await.status, 303);
    let jobs = browser.get("/admin/jobs").await;
    assert_eq!(jobs.status, 200);
    let doc = scraper::Html::parse_document(&jobs.body);
    let selector = scraper::Selector::parse(".job__times").expect("css");
    let times: String = doc
        .select(&selector)
        .next()
        .expect("times")
        .text()
        .collect();
    assert!(times.contains(&expected), "{times:?} says {expected:?}");
}

/// Disk full, simulated: the writer's connection may not grow the database any more
/// (SQLite's `max_page_count`, set to the pages it has), or again may (`limit`: none).
async fn limit_database_growth(app: &TestApp, limit: bool) {
    app.state
        .db
        .write(move |c| {
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let max = if limit { pages } else { 1_073_741_823 };
            c.query_row(&format!("PRAGMA max_page_count = {max}"), [], |r| {
                r.get::<_, i64>(0)
            })?;
            Ok(())
        })
        .await
        .expect("pragma");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_turns_healthz_writes_and_pings_to_503_with_the_cause_until_writes_commit() {
    let app = spawn_app(&job("grace = \"1h\"\n")).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    limit_database_growth(&app, true).await;
    // Owner writes fill what room is left; the first that cannot commit is a 503 that says why.
    let long = "The database is filling up. ".repeat(300);
    let mut refused = None;
    for n in 0..500 {
        let r = app
            .admin(
                "POST",
                "/api/admin/incidents",
                Some(serde_json::json!({"name": format!("Filler {n}"), "body": long})),
            )
            .await;
        if r.status() != 201 {
            refused = Some((r.status().as_u16(), r.text().await.expect("body")));
            break;
        }
    }
    let (code, body) = refused.expect("the disk fills up");
    assert_eq!(code, 503, "{body}");
    let error: serde_json::Value = serde_json::from_str(&body).expect("json");
    let error = error["error"].as_str().expect("error").to_string();
    assert!(error.contains("disk is full"), "{error}");
    // /healthz says so, with the cause.
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 503);
    let text = health.text().await.expect("body");
    assert!(text.contains("disk is full"), "{text}");
    // A ping is not answered 200 while it cannot be kept: the job's own retry keeps it.
    assert_eq!(ping(&app, "", None).await, 503);
    // Room again: the next write commits, and everything is as before.
    limit_database_growth(&app, false).await;
    app.open_incident(serde_json::json!({"name": "Room again"}))
        .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(ping(&app, "", None).await, 200);
    app.settle().await;
    assert_eq!(
        stored_pings(&app).await.len(),
        1,
        "the ping answered 200 is written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_and_regrouping_a_job_that_is_down_keeps_it_down_and_its_incident_open() {
    let keys = "period = \"1h\"\ngrace = \"10m\"\ninterval = \"1m\"\n";
    let app = spawn_app(&job(keys)).await;
    assert_eq!(ping(&app, "", None).await, 200);
    app.settle().await;
    assert_eq!(status(&app).await, "operational");
    // The next run is owed an hour later, plus 10 min of grace: then it is down.
    for _ in 0..72 {
        app.tick(Duration::from_secs(60)).await;
    }
    assert_eq!(status(&app).await, "major_outage");
    let open = app.get_json("/api/v2/incidents/unresolved.json").await;
    assert_eq!(open["incidents"].as_array().map(Vec::len), Some(1));

    // Same id, a new name and a group: a reload keeps the job's state and its incident.
    let renamed =
        job(keys).replace("Statistics job", "Nightly statistics") + "group = \"Batch jobs\"\n";
    let app = app.reload_with(&renamed).await;
    for _ in 0..5 {
        app.tick(Duration::from_secs(60)).await;
    }
    assert_eq!(
        status(&app).await,
        "major_outage",
        "still down, no ping came"
    );
    let open = app.get_json("/api/v2/incidents/unresolved.json").await;
    assert_eq!(
        open["incidents"].as_array().map(Vec::len),
        Some(1),
        "the incident stays open: {open}"
    );
}
