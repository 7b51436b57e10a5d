//! Incidents end to end: opened by the poller, written by the owner, shown everywhere.

use std::time::Duration;

use scraper::{Html, Selector};
use serde_json::json;

use crate::helpers::{Behavior, FakeSite, TestApp, http_monitor, spawn_app};

const FAST: &str = "interval = \"1s\"\nfailures_before_down = 2\nsuccesses_before_up = 2\n";
const SECOND: Duration = Duration::from_secs(1);
const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

fn texts(doc: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).expect("selector");
    doc.select(&selector)
        .map(|e| e.text().collect::<String>().trim().to_string())
        .collect()
}

async fn incidents(app: &TestApp, path: &str) -> Vec<serde_json::Value> {
    app.get_json(path).await["incidents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_opens_exactly_one_incident_that_resolves_with_its_downtime_across_a_restart() {
    let site = FakeSite::start(Behavior::Status(503)).await;
    let app = spawn_app(&http_monitor("proofs", &site.url(), FAST)).await;

    app.tick(SECOND).await;
    app.tick(SECOND).await;
    let opened = incidents(&app, "/api/v2/incidents/unresolved.json")
        .await
        .len()
        == 1;
    assert!(opened, "no incident opened");
    let incident = incidents(&app, "/api/v2/incidents/unresolved.json")
        .await
        .remove(0);
    let id = incident["id"].as_str().expect("id").to_string();
    assert_eq!(incident["name"], "proofs site is down");
    assert_eq!(incident["status"], "investigating");
    assert_eq!(incident["impact"], "major");
    assert_eq!(incident["components"][0]["status"], "major_outage");
    let body = incident["incident_updates"][0]["body"]
        .as_str()
        .expect("body")
        .to_string();
    assert!(body.contains("HTTP 503 Service Unavailable"), "{body}");
    assert!(
        !body.contains(&site.url()) && !body.contains("127.0.0.1"),
        "public text never carries the check's URL: {body}"
    );

    let summary = app.get_json("/api/v2/summary.json").await;
    assert_eq!(summary["incidents"][0]["id"], id.as_str());
    let page = app.get_html("/").await;
    assert_eq!(
        texts(&page, "#incidents-heading + article .incident__name"),
        vec!["proofs site is down"]
    );
    let detail = app.get_html(&format!("/incidents/{id}")).await;
    assert!(
        texts(&detail, ".timeline .note")
            .iter()
            .any(|t| t.contains("HTTP 503 Service Unavailable"))
    );

    // More failures and a restart open no second incident.
    app.tick(SECOND).await;
    app.tick(SECOND).await;
    let app = app.restart().await;
    app.tick(SECOND).await;
    app.tick(SECOND).await;
    assert_eq!(incidents(&app, "/api/v2/incidents.json").await.len(), 1);
    assert_eq!(
        incidents(&app, "/api/v2/incidents/unresolved.json")
            .await
            .len(),
        1
    );

    site.set(Behavior::Ok("back".into()));
    app.tick(SECOND).await;
    app.tick(SECOND).await;
    let resolved = incidents(&app, "/api/v2/incidents/unresolved.json")
        .await
        .is_empty();
    assert!(resolved, "the incident was not resolved");
    let all = incidents(&app, "/api/v2/incidents.json").await;
    assert_eq!(all.len(), 1, "exactly one incident for the outage");
    assert_eq!(all[0]["status"], "resolved");
    assert!(all[0]["resolved_at"].is_string());
    let last = all[0]["incident_updates"][0]["body"]
        .as_str()
        .expect("body");
    assert!(last.contains("is back up after"), "{last}");
    assert_eq!(
        app.component_status("proofs").await.as_deref(),
        Some("operational")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_api_writes_a_four_step_timeline_with_markdown() {
    let app = spawn_app(
        &[
            http_monitor("blog", "http://127.0.0.1:9/", NEVER),
            http_monitor("shop", "http://127.0.0.1:9/", NEVER),
        ]
        .concat(),
    )
    .await;
    let id = app
        .open_incident(json!({
            "name": "Proof galleries load slowly",
            "status": "investigating",
            "impact": "minor",
            "body": "We are **looking** into slow galleries.",
            "components": {"blog": "partial_outage"}
        }))
        .await;
    assert_eq!(
        app.component_status("blog").await.as_deref(),
        Some("partial_outage")
    );
    assert_eq!(
        app.get_json("/api/v2/status.json").await["status"]["indicator"],
        "major"
    );

    for (status, note) in [
        ("identified", "The image CDN returns *503*."),
        ("monitoring", "Failed over; `watching`."),
        ("resolved", "All good."),
    ] {
        let response = app.post_update(&id, status, note).await;
        assert_eq!(response.status(), 201);
        let json: serde_json::Value = response.json().await.expect("json");
        assert_eq!(json["status"], status);
    }

    let page = app.get_html(&format!("/incidents/{id}")).await;
    assert_eq!(
        texts(&page, ".timeline .update__status"),
        vec!["Resolved", "Monitoring", "Identified", "Investigating"]
    );
    let notes: Vec<String> = {
        let selector = Selector::parse(".timeline .note").expect("selector");
        page.select(&selector).map(|e| e.inner_html()).collect()
    };
    assert!(notes[1].contains("<code>watching</code>"), "{notes:?}");
    assert!(notes[2].contains("<em>503</em>"), "{notes:?}");
    assert!(notes[3].contains("<strong>looking</strong>"), "{notes:?}");
    assert_eq!(
        app.component_status("blog").await.as_deref(),
        Some("operational")
    );
    let json = app.get_json("/api/v2/incidents.json").await;
    let updates = json["incidents"][0]["incident_updates"]
        .as_array()
        .expect("updates");
    assert_eq!(updates.len(), 4);
    assert_eq!(
        updates[0]["affected_components"][0]["old_status"],
        "partial_outage"
    );
    assert_eq!(
        updates[0]["affected_components"][0]["new_status"],
        "operational"
    );

    let patched = app
        .admin(
            "PATCH",
            &format!("/api/admin/incidents/{id}"),
            Some(json!({"name": "Slow galleries"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    assert_eq!(
        app.get_json("/api/v2/incidents.json").await["incidents"][0]["name"],
        "Slow galleries"
    );
    let history = app.get_html("/history").await;
    assert!(texts(&history, ".history__name").contains(&"Slow galleries".to_string()));

    assert_eq!(
        app.admin("DELETE", &format!("/api/admin/incidents/{id}"), None)
            .await
            .status(),
        204
    );
    assert_eq!(app.get(&format!("/incidents/{id}")).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_window_opens_no_incident_until_it_ends() {
    let site = FakeSite::start(Behavior::Status(500)).await;
    let app = spawn_app(&http_monitor("orders", &site.url(), FAST)).await;
    let now = app.clock.now();
    app.schedule_maintenance(
        now - chrono::Duration::minutes(1),
        now + chrono::Duration::seconds(4),
        &["orders"],
    )
    .await;
    let active = app
        .get_json("/api/v2/scheduled-maintenances/active.json")
        .await;
    assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress");

    for _ in 0..3 {
        app.tick(SECOND).await;
    }
    assert_eq!(
        app.component_status("orders").await.as_deref(),
        Some("under_maintenance")
    );
    assert!(
        incidents(&app, "/api/v2/incidents.json").await.is_empty(),
        "no incident during the window"
    );

    app.tick(SECOND).await;
    app.tick(SECOND).await;
    let opened = incidents(&app, "/api/v2/incidents/unresolved.json")
        .await
        .len()
        == 1;
    assert!(
        opened,
        "after the window the same failure opens an incident"
    );
    assert_eq!(
        app.component_status("orders").await.as_deref(),
        Some("major_outage")
    );
    let all = app.get_json("/api/v2/scheduled-maintenances.json").await;
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_sets_the_owners_open_incident_quietly_instead_of_opening_its_own() {
    use signalfire::domain::check::CheckResult;
    let app = spawn_app(&http_monitor(
        "blog",
        "http://127.0.0.1:9/",
        &format!("{NEVER}failures_before_down = 2\n"),
    ))
    .await;
    let id = app
        .open_incident(json!({"name": "Host migration", "body": "Moving hosts.", "components": {"blog": "degraded_performance"}}))
        .await;
    let down = CheckResult::down(
        app.clock.now(),
        Duration::from_millis(5),
        "HTTP 502 Bad Gateway",
    );
    app.apply_times(&down, 2).await;
    let all = incidents(&app, "/api/v2/incidents.json").await;
    assert_eq!(all.len(), 1, "no second incident");
    let updates = all[0]["incident_updates"].as_array().expect("updates");
    assert_eq!(updates.len(), 1, "no machine note on the owner's incident");
    assert_eq!(updates[0]["body"], "Moving hosts.");
    assert_eq!(all[0]["components"][0]["status"], "major_outage");

    let up = CheckResult::up(app.clock.now(), Duration::from_millis(5));
    app.apply_times(&up, 2).await;
    let all = incidents(&app, "/api/v2/incidents.json").await;
    assert_eq!(all[0]["id"], id.as_str());
    assert_eq!(
        all[0]["status"], "investigating",
        "the owner decides when their incident is over"
    );
    assert_eq!(all[0]["incident_updates"].as_array().map(Vec::len), Some(1));
    assert_eq!(all[0]["components"][0]["status"], "operational");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_moves_from_scheduled_to_in_progress_to_completed_on_the_clock() {
    let app = spawn_app(&http_monitor("orders", "http://127.0.0.1:9/", NEVER)).await;
    let start = app.clock.now() + chrono::Duration::hours(1);
    let end = start + chrono::Duration::minutes(30);
    let response = app
        .admin(
            "POST",
            "/api/admin/maintenances",
            Some(json!({"name": "Upgrade", "body": "Soon.", "scheduled_for": start.to_rfc3339(), "scheduled_until": end.to_rfc3339(), "components": ["orders"]})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let upcoming = app
        .get_json("/api/v2/scheduled-maintenances/upcoming.json")
        .await;
    assert_eq!(upcoming["scheduled_maintenances"][0]["status"], "scheduled");
    assert_eq!(
        app.component_status("orders").await.as_deref(),
        Some("operational")
    );

    let housekeeping = app.state.scheduler.housekeeping();
    assert!(
        !housekeeping
            .advance_maintenances(start - chrono::Duration::seconds(1))
            .await
            .expect("advance")
    );
    assert!(
        housekeeping
            .advance_maintenances(start + chrono::Duration::seconds(1))
            .await
            .expect("advance")
    );
    assert!(
        housekeeping
            .advance_maintenances(end + chrono::Duration::seconds(1))
            .await
            .expect("advance")
    );
    app.settle().await;
    let all = app.get_json("/api/v2/scheduled-maintenances.json").await;
    let statuses: Vec<&str> = all["scheduled_maintenances"][0]["incident_updates"]
        .as_array()
        .expect("updates")
        .iter()
        .map(|u| u["status"].as_str().expect("status"))
        .collect();
    assert_eq!(statuses, vec!["completed", "in_progress", "scheduled"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_a_maintenance_through_the_api_tells_the_failure_it_hid() {
    use signalfire::domain::check::CheckResult;
    let app = spawn_app(&http_monitor(
        "orders",
        "http://127.0.0.1:9/",
        &format!("{NEVER}failures_before_down = 2\n"),
    ))
    .await;
    let now = app.clock.now();
    let id = app
        .schedule_maintenance(
            now - chrono::Duration::minutes(1),
            now + chrono::Duration::hours(1),
            &["orders"],
        )
        .await;
    let down = CheckResult::down(
        app.clock.now(),
        Duration::from_millis(5),
        "HTTP 500 Internal Server Error",
    );
    app.apply_times(&down, 2).await;
    assert!(incidents(&app, "/api/v2/incidents.json").await.is_empty());

    let done = app.post_update(&id, "completed", "Done early.").await;
    assert_eq!(done.status(), 201);
    app.settle().await;
    let open = incidents(&app, "/api/v2/incidents/unresolved.json").await;
    assert_eq!(
        open.len(),
        1,
        "the failure the window hid now has its incident"
    );
    assert_eq!(open[0]["name"], "orders site is down");
    assert_eq!(
        app.component_status("orders").await.as_deref(),
        Some("major_outage")
    );
    let all = app.get_json("/api/v2/scheduled-maintenances.json").await;
    assert_eq!(all["scheduled_maintenances"][0]["status"], "completed");
}
