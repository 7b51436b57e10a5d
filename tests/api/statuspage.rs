//! The Statuspage v2 API against Atlassian's own example: every key, with the same JSON type.

use serde_json::{Value, json};

use crate::helpers::{TestApp, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";
const EXAMPLE: &str = include_str!("../fixtures/statuspage-v2-summary.example.json");

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Every key of `example` is in `ours` with the same type (null in the example allows a
/// string or object, the types Statuspage uses there). Array elements are compared with the
/// example element of the same kind (`group` flag), else the first.
fn same_shape(example: &Value, ours: &Value, path: &str, problems: &mut Vec<String>) {
    match (example, ours) {
        (Value::Object(e), Value::Object(o)) => {
            for (key, ev) in e {
                let p = format!("{path}.{key}");
                match o.get(key) {
                    None => problems.push(format!("{p}: missing")),
                    Some(ov) => same_shape(ev, ov, &p, problems),
                }
            }
        }
        (Value::Array(e), Value::Array(o)) => {
            if o.is_empty() && !e.is_empty() {
                problems.push(format!("{path}: empty, cannot compare its elements"));
            }
            for (i, item) in o.iter().enumerate() {
                let model = e
                    .iter()
                    .find(|x| x.get("group").is_some() && x.get("group") == item.get("group"))
                    .or(e.first());
                if let Some(model) = model {
                    same_shape(model, item, &format!("{path}[{i}]"), problems);
                }
            }
        }
        (Value::Null, Value::Null | Value::String(_) | Value::Object(_) | Value::Array(_)) => {}
        (e, Value::Null)
            if path.ends_with("description")
                || path.ends_with("_at")
                || path.ends_with("start_date")
                || path.ends_with("group_id")
                || path.ends_with("affected_components")
                // A component never checked before an update had no status: null, not a
                // made-up "operational".
                || path.ends_with("old_status") =>
        {
            let _ = e;
        }
        (e, o) if kind(e) != kind(o) => problems.push(format!(
            "{path}: {} in the example, {} here",
            kind(e),
            kind(o)
        )),
        _ => {}
    }
}

fn check(example: &Value, ours: &Value, name: &str) {
    let mut problems = Vec::new();
    same_shape(example, ours, name, &mut problems);
    assert!(
        problems.is_empty(),
        "{name} differs from Statuspage's shape:\n{}",
        problems.join("\n")
    );
}

/// A page with a group, an open incident with component changes, an upcoming and an active
/// maintenance: every list in the API has something in it.
async fn busy_app() -> TestApp {
    let app = spawn_app(
        &[
            http_monitor(
                "proofs",
                "http://127.0.0.1:9/",
                &format!("{NEVER}group = \"Client galleries\"\n"),
            ),
            http_monitor(
                "orders",
                "http://127.0.0.1:9/",
                &format!("{NEVER}group = \"Client galleries\"\n"),
            ),
            http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        ]
        .concat(),
    )
    .await;
    let id = app.open_incident(json!({"name": "Proof galleries load slowly", "body": "Looking.", "components": {"proofs": "partial_outage"}})).await;
    let r = app.post_update(&id, "identified", "CDN.").await;
    assert_eq!(r.status(), 201);
    let now = app.clock.now();
    for (from, until) in [
        (
            now + chrono::Duration::days(2),
            now + chrono::Duration::days(3),
        ),
        (
            now - chrono::Duration::minutes(5),
            now + chrono::Duration::hours(1),
        ),
    ] {
        let r = app
            .admin(
                "POST",
                "/api/admin/maintenances",
                Some(json!({"name": "Order system upgrade", "body": "Read-only.", "scheduled_for": from.to_rfc3339(), "scheduled_until": until.to_rfc3339(), "components": ["orders"]})),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    app.settle().await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summary_json_has_every_field_of_statuspages_example() {
    let app = busy_app().await;
    let example: Value = serde_json::from_str(EXAMPLE).expect("example parses");
    let summary = app.get_json("/api/v2/summary.json").await;
    check(&example, &summary, "summary");
    assert_eq!(summary["status"]["indicator"], "major");
    assert_eq!(summary["status"]["description"], "Partial System Outage");
    let times = summary["incidents"][0]["created_at"]
        .as_str()
        .expect("time");
    assert!(
        times.ends_with('Z') && times.len() == "2026-08-20T14:22:39.441Z".len(),
        "{times}"
    );
    let group = &summary["components"][0];
    assert_eq!(group["group"], true);
    assert_eq!(group["components"], json!(["proofs", "orders"]));
    assert_eq!(summary["components"][1]["group_id"], group["id"]);
    let shortlink = summary["incidents"][0]["shortlink"]
        .as_str()
        .expect("shortlink");
    assert!(shortlink.ends_with(&format!(
        "/incidents/{}",
        summary["incidents"][0]["id"].as_str().expect("id")
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_seven_endpoints_have_statuspages_shapes() {
    let app = busy_app().await;
    let e: Value = serde_json::from_str(EXAMPLE).expect("example parses");
    let page = &e["page"];
    let expectations = [
        (
            "/api/v2/status.json",
            json!({"page": page, "status": e["status"]}),
        ),
        (
            "/api/v2/components.json",
            json!({"page": page, "components": e["components"]}),
        ),
        (
            "/api/v2/incidents.json",
            json!({"page": page, "incidents": e["incidents"]}),
        ),
        (
            "/api/v2/incidents/unresolved.json",
            json!({"page": page, "incidents": e["incidents"]}),
        ),
        (
            "/api/v2/scheduled-maintenances.json",
            json!({"page": page, "scheduled_maintenances": e["scheduled_maintenances"]}),
        ),
        (
            "/api/v2/scheduled-maintenances/upcoming.json",
            json!({"page": page, "scheduled_maintenances": e["scheduled_maintenances"]}),
        ),
        (
            "/api/v2/scheduled-maintenances/active.json",
            json!({"page": page, "scheduled_maintenances": e["scheduled_maintenances"]}),
        ),
    ];
    for (path, expected) in expectations {
        let ours = app.get_json(path).await;
        check(&expected, &ours, path);
    }
    let upcoming = app
        .get_json("/api/v2/scheduled-maintenances/upcoming.json")
        .await;
    assert_eq!(upcoming["scheduled_maintenances"][0]["status"], "scheduled");
    let active = app
        .get_json("/api/v2/scheduled-maintenances/active.json")
        .await;
    assert_eq!(active["scheduled_maintenances"][0]["status"], "in_progress");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_ids_never_collide_with_monitor_ids_or_each_other() {
    let never = "cron = \"0 0 0 1 1 *\"\n";
    let app = spawn_app(
        &[
            http_monitor(
                "group-website",
                "http://127.0.0.1:9/",
                &format!("{never}group = \"Website\"\n"),
            ),
            http_monitor(
                "blog",
                "http://127.0.0.1:9/",
                &format!("{never}group = \"Web site\"\n"),
            ),
            http_monitor(
                "shop",
                "http://127.0.0.1:9/",
                &format!("{never}group = \"web-site\"\n"),
            ),
        ]
        .concat(),
    )
    .await;
    let components = app.get_json("/api/v2/components.json").await;
    let ids: Vec<&str> = components["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    let unique: std::collections::HashSet<&&str> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "ids are unique: {ids:?}");
    assert!(ids.contains(&"group-website"), "the monitor keeps its id");
    for c in components["components"].as_array().expect("components") {
        if let Some(group) = c["group_id"].as_str() {
            assert!(
                components["components"]
                    .as_array()
                    .expect("components")
                    .iter()
                    .any(|g| g["id"] == group && g["group"] == true),
                "{} points at its group",
                c["id"]
            );
        }
    }
}
