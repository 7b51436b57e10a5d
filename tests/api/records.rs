//! Records that stay true (SPEC §11): ids are never given twice, deletes ask first, and no
//! GET or HEAD changes anything.

use serde_json::{Value, json};

use crate::helpers::{TestApp, http_monitor, spawn_app};
use crate::notify::{NEVER, sign_up};
use crate::receivers::SmtpSink;

fn number(value: &Value) -> i64 {
    value
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a numeric id: {value}"))
}

/// Opens an incident; returns its id and its first update's id.
async fn open(app: &TestApp, name: &str) -> (i64, i64) {
    let response = app
        .admin(
            "POST",
            "/api/admin/incidents",
            Some(json!({"name": name, "body": "Looking.", "components": {"blog": "major_outage"}})),
        )
        .await;
    assert_eq!(response.status(), 201);
    let json: Value = response.json().await.expect("json");
    (
        number(&json["id"]),
        number(&json["incident_updates"][0]["id"]),
    )
}

async fn delete(app: &TestApp, path: &str) {
    let response = app.admin("DELETE", path, None).await;
    assert_eq!(response.status(), 204, "DELETE {path}");
}

async fn maintenance(app: &TestApp) -> i64 {
    let now = chrono::Utc::now();
    let id = app
        .schedule_maintenance(
            now + chrono::Duration::days(3),
            now + chrono::Duration::days(4),
            &["blog"],
        )
        .await;
    id.parse().expect("a numeric id")
}

/// The id of the subscriber with `email`.
async fn subscriber(app: &TestApp, email: &str) -> i64 {
    let list = app.admin("GET", "/api/admin/subscribers", None).await;
    let list: Value = list.json().await.expect("json");
    let found = list["subscribers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["email"] == email)
        .unwrap_or_else(|| panic!("{email} in {list}"));
    number(&found["id"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_records_deleted_never_give_their_ids_again_not_even_after_a_restart() {
    let smtp = SmtpSink::start().await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}",
        smtp.config(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    ))
    .await;

    let (incident, update) = open(&app, "First").await;
    delete(&app, &format!("/api/admin/incidents/{incident}")).await;
    let (next, next_update) = open(&app, "Second").await;
    assert!(
        next > incident && next_update > update,
        "incident {incident} → {next}, update {update} → {next_update}"
    );

    let window = maintenance(&app).await;
    delete(&app, &format!("/api/admin/incidents/{window}")).await;
    let next_window = maintenance(&app).await;
    assert!(next_window > window, "maintenance {window} → {next_window}");

    sign_up(&app, &smtp, "first@test.example", &[]).await;
    let first = subscriber(&app, "first@test.example").await;
    delete(&app, &format!("/api/admin/subscribers/{first}")).await;
    sign_up(&app, &smtp, "second@test.example", &[]).await;
    let second = subscriber(&app, "second@test.example").await;
    assert!(second > first, "subscriber {first} → {second}");

    // The newest of each goes, then the server restarts on the same data.
    delete(&app, &format!("/api/admin/incidents/{next}")).await;
    delete(&app, &format!("/api/admin/incidents/{next_window}")).await;
    delete(&app, &format!("/api/admin/subscribers/{second}")).await;
    let app = app.restart().await;
    let (after, after_update) = open(&app, "Third").await;
    assert!(
        after > next && after > next_window && after_update > next_update,
        "after a restart: incident {after}, update {after_update}"
    );
    sign_up(&app, &smtp, "third@test.example", &[]).await;
    let third = subscriber(&app, "third@test.example").await;
    assert!(third > second, "subscriber after a restart: {third}");
}
