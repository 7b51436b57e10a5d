//! Writes cost what they change, not what the site holds: the work the writer does for one
//! monitor's change is measured in SQLite's own steps (its progress handler on the write
//! connection), which are the same on every run — no clock involved.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;
use signalfire::db::subscribers;
use signalfire::domain::check::CheckResult;
use signalfire::monitoring::Monitor;

use crate::helpers::{TestApp, http_monitor, spawn_app};
use crate::notify::{NEVER, channel};
use crate::receivers::{Receiver, Reply};

/// SQLite calls the progress handler every this many virtual machine instructions.
const STEP: i32 = 100;

/// Counts the write connection's VM instructions (in hundreds) from now on.
fn count_writer_steps(app: &TestApp) -> Arc<AtomicU64> {
    let steps = Arc::new(AtomicU64::new(0));
    let counter = steps.clone();
    app.state
        .db
        .write_blocking(move |conn| {
            conn.progress_handler(
                STEP,
                Some(move || {
                    counter.fetch_add(1, Ordering::Relaxed);
                    false
                }),
            )?;
            Ok(())
        })
        .expect("progress handler");
    steps
}

/// Fails `monitor` until it is down (three checks by default).
async fn take_down(app: &TestApp, monitor: &Arc<Monitor>) {
    let at = app.clock.now();
    for _ in 0..3 {
        app.state
            .checker
            .apply(
                monitor,
                CheckResult::down(at, std::time::Duration::from_millis(5), "HTTP 503"),
            )
            .await
            .expect("apply");
    }
}

/// The writer's steps for the second of `monitors` going down, with a webhook channel and as
/// many e-mail subscribers, each following one monitor: the first one's change has been written
/// before the count starts.
async fn steps_of_one_change(monitors: usize) -> u64 {
    let mut extra: String = (0..monitors)
        .map(|i| http_monitor(&format!("m{i}"), "http://127.0.0.1:9/", NEVER))
        .collect();
    extra.push_str(&channel(
        "hooks",
        "webhook",
        "url = \"http://127.0.0.1:9/hook\"",
    ));
    extra.push_str(
        "[smtp]\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\nfrom = \"Status <status@test.example>\"\n\n\
         [subscribers]\nemail = true\n\n",
    );
    let app = spawn_app(&extra).await;
    let roster: Vec<Arc<Monitor>> = app.state.roster.iter().cloned().collect();
    let rows: Vec<i64> = roster.iter().map(|m| m.row).collect();
    let now = app.clock.now();
    app.state
        .db
        .write_blocking(move |conn| {
            for (i, row) in rows.iter().enumerate() {
                let email = format!("client{i}@test.example");
                let (id, _) = subscribers::sign_up(conn, &email, &[*row], now)?;
                subscribers::confirm(conn, id, now)?;
            }
            Ok(())
        })
        .expect("subscribers");
    take_down(&app, &roster[0]).await;
    let steps = count_writer_steps(&app);
    take_down(&app, &roster[1]).await;
    steps.load(Ordering::Relaxed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_going_down_costs_the_writer_the_same_on_a_site_of_400_monitors_as_of_5() {
    let small = steps_of_one_change(5).await;
    let big = steps_of_one_change(400).await;
    assert!(small > 0, "the writer's steps are counted");
    assert!(
        big < small * 2,
        "one change with a channel and subscribers: {big}00 SQLite steps on 400 monitors, {small}00 on 5"
    );
}

/// What each webhook received told, in order: what changed, then the page's status.
fn heard(receiver: &Receiver) -> Vec<String> {
    receiver
        .to("/hook")
        .iter()
        .map(|r| {
            let body = r.json();
            let what = if body["incident"].is_object() {
                // Named by its components: the poller's own names are not this test's business.
                let components: Vec<&str> = body["incident"]["components"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["id"].as_str())
                    .collect();
                let name = match components.as_slice() {
                    [] => body["incident"]["name"].as_str().unwrap_or("?").to_string(),
                    ids => format!("on {}", ids.join(",")),
                };
                format!(
                    "{name} {}",
                    body["incident"]["status"].as_str().unwrap_or("?")
                )
            } else {
                format!(
                    "{} {}",
                    body["component"]["id"].as_str().unwrap_or("?"),
                    body["component_update"]["new_status"]
                        .as_str()
                        .unwrap_or("?")
                )
            };
            let page = body["page"]["status_indicator"].as_str().unwrap_or("?");
            format!("{what}: {page}")
        })
        .collect()
}

async fn two_monitors_and_a_webhook(receiver: &Receiver) -> TestApp {
    spawn_app(&format!(
        "{}{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        http_monitor("shop", "http://127.0.0.1:9/", NEVER),
        channel(
            "hooks",
            "webhook",
            &format!("url = \"{}\"", receiver.url("/hook"))
        ),
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_window_shows_in_the_page_status_from_its_start_to_its_end() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let app = two_monitors_and_a_webhook(&receiver).await;
    let roster: Vec<Arc<Monitor>> = app.state.roster.iter().cloned().collect();
    let start = app.clock.now() + chrono::Duration::minutes(10);
    app.schedule_maintenance(start, start + chrono::Duration::minutes(10), &["shop"])
        .await;
    app.deliver().await;
    app.tick(std::time::Duration::from_secs(600)).await;
    app.deliver().await;
    take_down(&app, &roster[0]).await;
    app.deliver().await;
    app.tick(std::time::Duration::from_secs(600)).await;
    app.deliver().await;
    assert_eq!(
        heard(&receiver),
        vec![
            "on shop scheduled: none",
            "on shop in_progress: maintenance",
            "blog major_outage: major",
            "on blog investigating: major",
            "on shop completed: major",
        ]
    );
}

/// The page status each webhook carries, in order, after each step is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_carries_the_page_status_of_its_moment() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let app = two_monitors_and_a_webhook(&receiver).await;
    let roster: Vec<Arc<Monitor>> = app.state.roster.iter().cloned().collect();

    take_down(&app, &roster[0]).await;
    app.deliver().await;
    take_down(&app, &roster[1]).await;
    app.deliver().await;
    let id = app
        .open_incident(
            json!({"name": "Payments", "body": "Looking.", "impact": "critical", "components": {}}),
        )
        .await;
    app.deliver().await;
    let resolved = app.post_update(&id, "resolved", "Fixed.").await;
    assert_eq!(resolved.status(), 201);
    app.deliver().await;
    let at = app.clock.now();
    app.state
        .checker
        .apply(
            &roster[0],
            CheckResult::up(at, std::time::Duration::from_millis(5)),
        )
        .await
        .expect("apply");
    app.state
        .checker
        .apply(
            &roster[0],
            CheckResult::up(at, std::time::Duration::from_millis(5)),
        )
        .await
        .expect("apply");
    app.deliver().await;
    // The poller's resolution follows its outage within `[subscribers] min_interval`: it is
    // held until then (flap damping), and carries the page status of the moment it was written.
    app.tick(std::time::Duration::from_secs(11 * 60)).await;
    app.deliver().await;

    assert_eq!(
        heard(&receiver),
        vec![
            "blog major_outage: major",
            "on blog investigating: major",
            "shop major_outage: critical",
            "on shop investigating: critical",
            "Payments investigating: critical",
            "Payments resolved: critical",
            "blog operational: critical",
            "on blog resolved: major",
        ]
    );
}
