//! Following the page without watching it: WebSub pings, the banner JSON and the embed.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{TestApp, http_monitor, spawn_app};
use crate::receivers::{Receiver, Reply};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

fn hub_config(hub: &Receiver) -> String {
    format!(
        "{}{}[feeds]\nwebsub_hubs = [\"{}\"]\n",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        http_monitor("shop", "http://127.0.0.1:9/", NEVER),
        hub.url("/hub")
    )
}

/// The `hub.url` values of a publish ping, after checking its mode and type.
fn published(request: &crate::receivers::Request) -> Vec<String> {
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&request.body).expect("a form");
    assert!(form.contains(&("hub.mode".to_string(), "publish".to_string())));
    form.into_iter()
        .filter(|(k, _)| k == "hub.url")
        .map(|(_, v)| v)
        .collect()
}

fn base(app: &TestApp) -> String {
    app.state
        .config
        .server
        .base_url
        .as_str()
        .trim_end_matches('/')
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_hears_of_every_feed_that_gained_an_item_even_across_its_outage_and_a_restart() {
    let hub = Receiver::start(Reply::Status(204)).await;
    let app = spawn_app(&hub_config(&hub)).await;
    let base = base(&app);

    // The feeds name the hub, in their bodies and in a Link header.
    let atom = app.get("/feed.atom").await;
    let link = atom
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        link.contains(&format!("<{}>; rel=\"hub\"", hub.url("/hub"))),
        "{link}"
    );
    assert!(
        link.contains(&format!("<{base}/feed.atom>; rel=\"self\"")),
        "{link}"
    );
    assert!(atom.text().await.expect("atom").contains("rel=\"hub\""));
    let feed = app.get_json("/feed.json").await;
    assert_eq!(feed["hubs"][0]["type"], "WebSub");
    assert!(
        app.get("/feed.rss")
            .await
            .text()
            .await
            .expect("rss")
            .contains("rel=\"hub\"")
    );

    app.open_incident(json!({"name": "Comments broken", "components": {"blog": "partial_outage"}}))
        .await;
    app.deliver().await;
    let pings = hub.wait_for("/hub", 1).await;
    let urls = published(&pings[0]);
    for path in [
        "feed.rss",
        "feed.atom",
        "feed.json",
        "history.rss",
        "history.atom",
        "components/blog/feed.rss",
        "components/blog/feed.atom",
        "components/blog/feed.json",
    ] {
        assert!(
            urls.contains(&format!("{base}/{path}")),
            "{path} in {urls:?}"
        );
    }
    assert!(
        !urls.iter().any(|u| u.contains("components/shop")),
        "only the feeds that gained the item: {urls:?}"
    );

    // The hub is down: the ping waits, across a restart, and arrives when it is back.
    hub.script(&[Reply::Status(503)]);
    let id = app
        .open_incident(json!({"name": "Shop slow", "components": {"shop": "degraded_performance"}, "deliver_notifications": false}))
        .await;
    assert!(!id.is_empty());
    app.deliver().await;
    assert_eq!(hub.to("/hub").len(), 2, "tried once, refused");
    let app = app.restart().await;
    app.clock.advance(Duration::from_secs(10));
    app.deliver().await;
    let pings = hub.wait_for("/hub", 3).await;
    let urls = published(&pings[2]);
    assert!(
        urls.contains(&format!("{base}/components/shop/feed.json")),
        "a quiet update still reaches the feeds and the hub: {urls:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_json_is_open_to_any_site_and_empty_when_all_is_well() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let response = app.get("/widget.json").await;
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );
    let widget: serde_json::Value = response.json().await.expect("json");
    assert_eq!(widget["incidents"], json!([]));
    assert_eq!(widget["maintenances"], json!([]));
    assert_eq!(widget["indicator"], "none");
    let id = app
        .open_incident(json!({"name": "Checkout errors", "components": {"blog": "major_outage"}}))
        .await;
    app.settle().await;
    let widget = app.get_json("/widget.json").await;
    assert_eq!(widget["incidents"][0]["name"], "Checkout errors");
    assert!(
        widget["incidents"][0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/incidents/{id}")))
    );
    assert_eq!(
        widget["indicator"], "critical",
        "a major outage, as Statuspage says it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embed_may_be_framed_and_nothing_else_may() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let quiet = app.get("/embed").await;
    assert_eq!(quiet.status(), 200);
    let csp = header(&quiet, "content-security-policy").expect("csp");
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(!csp.contains("script-src"), "no script: {csp}");
    assert_eq!(header(&quiet, "x-frame-options"), None);
    let body = quiet.text().await.expect("embed");
    assert!(!body.contains("banner__title"), "nothing when all is well");
    // Checked once: before that, the banner waits for the first checks.
    let up = signalfire::domain::check::CheckResult::up(app.clock.now(), Duration::from_millis(5));
    app.apply_times(&up, 1).await;
    let operational = app
        .get("/embed?operational=1")
        .await
        .text()
        .await
        .expect("embed");
    assert!(
        operational.contains("All Systems Operational"),
        "{operational}"
    );
    let page = app.get("/").await;
    assert!(
        header(&page, "content-security-policy")
            .is_some_and(|c| c.contains("frame-ancestors 'none'"))
    );
    assert_eq!(header(&page, "x-frame-options").as_deref(), Some("DENY"));

    let id = app
        .open_incident(
            json!({"name": "Proof galleries slow", "components": {"blog": "degraded_performance"}}),
        )
        .await;
    app.settle().await;
    let banner = app.get("/embed").await.text().await.expect("embed");
    assert!(banner.contains("Proof galleries slow"));
    assert!(
        banner.contains(&format!("/incidents/{id}\" target=\"_top\"")),
        "{banner}"
    );
}
