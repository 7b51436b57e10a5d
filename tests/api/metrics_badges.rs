//! /metrics parses as Prometheus text and moves; badges are well-formed SVG in the right colour.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use signalfire::domain::check::CheckResult;

use crate::helpers::{TestApp, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\nfailures_before_down = 2\n";

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("body");
    let lines = text.lines().map(|l| Ok(l.to_string()));
    prometheus_parse::Scrape::parse(lines)
        .unwrap_or_else(|e| panic!("/metrics does not parse: {e}\n{text}"))
}

fn value(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_move_when_a_monitor_goes_down() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let monitor = app.monitor();
    app.state
        .checker
        .apply(
            &monitor,
            CheckResult::up(Utc::now(), Duration::from_millis(120)),
        )
        .await
        .expect("apply");
    app.settle().await;
    let before = scrape(&app).await;
    assert_eq!(
        value(&before, "signalfire_monitor_up", &[("monitor", "blog")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &before,
            "signalfire_response_time_seconds",
            &[("monitor", "blog")]
        ),
        Some(0.12)
    );
    assert_eq!(
        value(
            &before,
            "signalfire_checks_total",
            &[("monitor", "blog"), ("result", "up")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &before,
            "signalfire_monitor_status",
            &[("monitor", "blog"), ("status", "operational")]
        ),
        Some(1.0)
    );
    assert!(value(&before, "process_resident_memory_bytes", &[]).is_some_and(|v| v > 0.0));

    let down = CheckResult::down(
        Utc::now(),
        Duration::from_millis(5),
        "HTTP 500 Internal Server Error",
    );
    app.apply_times(&down, 2).await;
    let after = scrape(&app).await;
    assert_eq!(
        value(&after, "signalfire_monitor_up", &[("monitor", "blog")]),
        Some(0.0)
    );
    assert_eq!(
        value(
            &after,
            "signalfire_checks_total",
            &[("monitor", "blog"), ("result", "down")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &after,
            "signalfire_monitor_status",
            &[("monitor", "blog"), ("status", "major_outage")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &after,
            "signalfire_monitor_status",
            &[("monitor", "blog"), ("status", "operational")]
        ),
        Some(0.0)
    );
}

fn badge_colour_and_title(svg: &str) -> (String, String) {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("badge is not well-formed XML: {e}\n{svg}"));
    let title = doc
        .descendants()
        .find(|n| n.has_tag_name("title"))
        .and_then(|n| n.text())
        .expect("title")
        .to_string();
    let rects: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("x").is_some())
        .collect();
    (rects[0].attribute("fill").expect("fill").to_string(), title)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badges_are_svg_in_the_colour_of_each_status() {
    let names = ["up", "slow", "partial", "down", "maint"];
    let monitors: String = names
        .iter()
        .map(|n| http_monitor(n, "http://127.0.0.1:9/", NEVER))
        .collect();
    let app = spawn_app(&monitors).await;
    app.open_incident(json!({"name": "Mixed", "components": {"slow": "degraded_performance", "partial": "partial_outage", "down": "major_outage"}})).await;
    let now = Utc::now();
    let r = app
        .admin("POST", "/api/admin/maintenances", Some(json!({"name": "Work", "scheduled_for": (now - chrono::Duration::minutes(1)).to_rfc3339(), "scheduled_until": (now + chrono::Duration::hours(1)).to_rfc3339(), "components": ["maint"]})))
        .await;
    assert_eq!(r.status(), 201);
    // Checked once: a component never checked is "unknown" (see below).
    app.apply_times(&CheckResult::up(now, Duration::from_millis(50)), 1)
        .await;
    let expected = [
        ("up", "#44cc11", "up site: operational"),
        ("slow", "#dfb317", "slow site: degraded"),
        ("partial", "#fe7d37", "partial site: partial outage"),
        ("down", "#e05d44", "down site: major outage"),
        ("maint", "#007ec6", "maint site: maintenance"),
    ];
    for (id, colour, title) in expected {
        let response = app.get(&format!("/badge/{id}.svg")).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/svg+xml");
        assert!(response.headers().contains_key("etag"));
        let svg = response.text().await.expect("body");
        assert_eq!(
            badge_colour_and_title(&svg),
            (colour.to_string(), title.to_string()),
            "{id}"
        );
    }
    let custom = app
        .get("/badge/up.svg?label=Our%20%3Cblog%3E")
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(badge_colour_and_title(&custom).1, "Our <blog>: operational");
    assert_eq!(app.get("/badge/nope.svg").await.status(), 404);
    assert_eq!(app.get("/badge/up.png").await.status(), 404);
}

/// What the Prometheus client libraries export: CPU time is a counter named `_total`; the
/// certificate's expiry is a point in time, `_timestamp_seconds`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_cpu_is_a_total_counter_and_timestamps_are_named_so() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let expires = Utc::now() + chrono::Duration::days(30);
    let mut result = CheckResult::up(Utc::now(), Duration::from_millis(120));
    result.cert_expires_at = Some(expires);
    app.state
        .checker
        .apply(&app.monitor(), result)
        .await
        .expect("apply");
    app.settle().await;
    let scrape = scrape(&app).await;
    let cpu: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric.starts_with("process_cpu_seconds"))
        .collect();
    assert_eq!(cpu.len(), 1, "{cpu:?}");
    assert_eq!(cpu[0].metric, "process_cpu_seconds_total");
    // prometheus-parse files an OpenMetrics counter's `_total` sample as untyped: the type
    // is read from its TYPE line.
    assert!(
        matches!(cpu[0].value, prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) if v > 0.0),
        "{:?}",
        cpu[0].value
    );
    let text = app.get("/metrics").await.text().await.expect("body");
    assert!(
        text.contains("# TYPE process_cpu_seconds counter\n"),
        "{text}"
    );
    let at = value(
        &scrape,
        "signalfire_certificate_expiry_timestamp_seconds",
        &[("monitor", "blog")],
    )
    .expect("the expiry as a timestamp");
    assert!((at - expires.timestamp() as f64).abs() < 1.0, "{at}");
}

/// SPEC §11: a component never checked is "no data" — the badge says `unknown` in grey,
/// `/metrics` has no status sample for it, the widget and the embed do not call it operational.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_never_checked_is_unknown_on_its_badge_and_has_no_status_sample() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let svg = app.get("/badge/blog.svg").await.text().await.expect("body");
    assert_eq!(
        badge_colour_and_title(&svg),
        ("#9f9f9f".to_string(), "blog site: unknown".to_string())
    );
    let custom = app
        .get("/badge/blog.svg?label=Blog")
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(badge_colour_and_title(&custom).1, "Blog: unknown");
    let before = scrape(&app).await;
    assert!(
        !before
            .samples
            .iter()
            .any(|s| s.metric == "signalfire_monitor_status"
                && s.labels.get("monitor") == Some("blog")),
        "no status sample before the first check"
    );
    let widget = app.get_json("/widget.json").await;
    assert_eq!(widget["description"], "Waiting for the first checks");
    let embed = app
        .get("/embed?operational=1")
        .await
        .text()
        .await
        .expect("body");
    assert!(!embed.contains("All Systems Operational"), "{embed}");
    assert!(embed.contains("Waiting for the first checks"), "{embed}");

    app.apply_times(&CheckResult::up(Utc::now(), Duration::from_millis(80)), 1)
        .await;
    let svg = app.get("/badge/blog.svg").await.text().await.expect("body");
    assert_eq!(badge_colour_and_title(&svg).1, "blog site: operational");
    let after = scrape(&app).await;
    assert_eq!(
        value(
            &after,
            "signalfire_monitor_status",
            &[("monitor", "blog"), ("status", "operational")]
        ),
        Some(1.0)
    );
    let widget = app.get_json("/widget.json").await;
    assert_eq!(widget["description"], "All Systems Operational");
}
