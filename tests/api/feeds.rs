//! Feeds, read back with an independent parser (feed-rs): one entry per update, stable ids.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use signalfire::domain::check::CheckResult;

use crate::helpers::{TestApp, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\nfailures_before_down = 2\n";

async fn parse(app: &TestApp, path: &str) -> feed_rs::model::Feed {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let bytes = response.bytes().await.expect("body");
    feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| panic!("{path} does not parse: {e}"))
}

/// Two components; "blog" has an outage the poller opened plus three owner updates.
async fn app_with_history() -> (TestApp, String) {
    let app = spawn_app(
        &[
            http_monitor("blog", "http://127.0.0.1:9/", NEVER),
            http_monitor("shop", "http://127.0.0.1:9/", NEVER),
        ]
        .concat(),
    )
    .await;
    let down = CheckResult::down(
        app.clock.now(),
        Duration::from_millis(4),
        "HTTP 503 Service Unavailable",
    );
    app.apply_times(&down, 2).await;
    let id = app.get_json("/api/v2/incidents/unresolved.json").await["incidents"][0]["id"]
        .as_str()
        .expect("automatic incident")
        .to_string();
    for (status, body) in [
        ("identified", "The host's **firewall** blocks us."),
        ("monitoring", "Rule fixed."),
        ("resolved", "All clear."),
    ] {
        let response = app.post_update(&id, status, body).await;
        assert_eq!(response.status(), 201);
    }
    app.open_incident(
        json!({"name": "Shop checkout errors", "components": {"shop": "partial_outage"}}),
    )
    .await;
    (app, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_and_atom_list_one_entry_per_update_and_a_new_update_adds_one() {
    let (app, id) = app_with_history().await;
    for path in ["/feed.rss", "/feed.atom", "/history.rss", "/history.atom"] {
        let feed = parse(&app, path).await;
        assert_eq!(
            feed.entries.len(),
            5,
            "{path}: 4 blog updates and 1 shop update"
        );
        let blog: Vec<_> = feed
            .entries
            .iter()
            .filter(|e| {
                e.title
                    .as_ref()
                    .is_some_and(|t| t.content.contains("blog site is down"))
            })
            .collect();
        let titles: Vec<String> = blog
            .iter()
            .map(|e| {
                e.title
                    .as_ref()
                    .map(|t| t.content.clone())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            titles,
            vec![
                "[Resolved] blog site is down",
                "[Monitoring] blog site is down",
                "[Identified] blog site is down",
                "[Investigating] blog site is down"
            ],
            "{path}"
        );
        let ids: HashSet<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 5, "{path}: ids are unique");
        for e in &blog {
            let link = &e.links[0].href;
            assert!(
                link.contains(&format!("/incidents/{id}#update-")),
                "{path}: {link}"
            );
            assert!(
                e.published.or(e.updated).is_some(),
                "{path}: entry has a date"
            );
        }
        let dates: Vec<_> = feed
            .entries
            .iter()
            .map(|e| e.published.or(e.updated).expect("date"))
            .collect();
        assert!(
            dates.windows(2).all(|w| w[0] >= w[1]),
            "{path}: newest first"
        );
        let resolved = blog[0]
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| blog[0].summary.as_ref().map(|s| s.content.clone()));
        assert!(
            resolved.unwrap_or_default().contains("All clear"),
            "{path}: the note is in the entry"
        );
        let identified = blog[2]
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| blog[2].summary.as_ref().map(|s| s.content.clone()));
        assert!(
            identified
                .unwrap_or_default()
                .contains("<strong>firewall</strong>"),
            "{path}: rendered Markdown"
        );
    }

    let before: HashSet<String> = parse(&app, "/feed.rss")
        .await
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    let response = app.post_update(&id, "postmortem", "Lessons learned.").await;
    assert_eq!(response.status(), 201);
    let after = parse(&app, "/feed.rss").await;
    assert_eq!(after.entries.len(), 6);
    assert_eq!(
        after.entries[0].title.as_ref().expect("title").content,
        "[Postmortem] blog site is down"
    );
    let after_ids: HashSet<String> = after.entries.into_iter().map(|e| e.id).collect();
    assert!(before.is_subset(&after_ids), "no earlier id changed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_feed_lists_only_updates_that_affect_it() {
    let (app, _) = app_with_history().await;
    for path in ["/components/blog/feed.rss", "/components/blog/feed.atom"] {
        let feed = parse(&app, path).await;
        assert_eq!(feed.entries.len(), 4, "{path}");
        assert!(feed.entries.iter().all(|e| {
            e.title
                .as_ref()
                .expect("title")
                .content
                .contains("blog site is down")
        }));
    }
    let shop = parse(&app, "/components/shop/feed.rss").await;
    assert_eq!(shop.entries.len(), 1);
    assert_eq!(app.get("/components/nope/feed.rss").await.status(), 404);
    assert_eq!(app.get("/components/blog/feed.yaml").await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_advertises_its_feeds() {
    let (app, _) = app_with_history().await;
    let page = app.get_html("/").await;
    let select = |css: &str| -> Vec<String> {
        let selector = scraper::Selector::parse(css).expect("selector");
        page.select(&selector)
            .filter_map(|e| e.value().attr("href").map(str::to_string))
            .collect()
    };
    assert_eq!(
        select("head link[rel=alternate][type='application/rss+xml']"),
        vec!["/feed.rss"]
    );
    assert_eq!(
        select("head link[rel=alternate][type='application/atom+xml']"),
        vec!["/feed.atom"]
    );
    let visible = select("footer .subscribe a");
    assert!(
        visible.contains(&"/feed.rss".to_string()) && visible.contains(&"/feed.atom".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_feed_and_json_document_answers_conditional_gets_with_304() {
    let (app, id) = app_with_history().await;
    let paths = [
        "/feed.rss",
        "/feed.atom",
        "/history.rss",
        "/history.atom",
        "/components/blog/feed.rss",
        "/components/blog/feed.atom",
        "/api/v2/status.json",
        "/api/v2/summary.json",
        "/api/v2/components.json",
        "/api/v2/incidents.json",
        "/api/v2/incidents/unresolved.json",
        "/api/v2/scheduled-maintenances.json",
        "/api/v2/scheduled-maintenances/upcoming.json",
        "/api/v2/scheduled-maintenances/active.json",
        "/",
        "/history",
        "/badge/blog.svg",
    ];
    let mut etags = Vec::new();
    for path in paths {
        let first = app.get(path).await;
        assert_eq!(first.status(), 200, "{path}");
        let etag = first.headers()["etag"].to_str().expect("etag").to_string();
        let modified = first.headers()["last-modified"]
            .to_str()
            .expect("last-modified")
            .to_string();
        assert_eq!(
            first.headers()["cache-control"],
            "public, max-age=60",
            "{path}"
        );
        for (header, value) in [
            ("If-None-Match", etag.as_str()),
            ("If-Modified-Since", modified.as_str()),
        ] {
            let again = app
                .client
                .get(format!("{}{path}", app.address))
                .header(header, value)
                .send()
                .await
                .expect("request");
            assert_eq!(again.status(), 304, "{path} with {header}");
            assert!(
                again.bytes().await.expect("body").is_empty(),
                "{path}: 304 has no body"
            );
        }
        etags.push(etag);
    }
    app.clock.advance(Duration::from_secs(60));
    let response = app.post_update(&id, "postmortem", "Written up.").await;
    assert_eq!(response.status(), 201);
    for (path, old) in paths.iter().zip(&etags) {
        if matches!(
            *path,
            "/api/v2/scheduled-maintenances.json"
                | "/api/v2/scheduled-maintenances/upcoming.json"
                | "/api/v2/scheduled-maintenances/active.json"
                | "/api/v2/incidents/unresolved.json"
                | "/badge/blog.svg"
                | "/api/v2/status.json"
                | "/api/v2/components.json"
                | "/"
        ) {
            continue; // untouched by a postmortem on a resolved incident
        }
        let now = app.get(path).await.headers()["etag"]
            .to_str()
            .expect("etag")
            .to_string();
        assert_ne!(&now, old, "{path}: a change gives a new ETag");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_in_notes_never_break_a_feed() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let every_c0: String = (0u8..32).map(char::from).collect();
    let id = app
        .open_incident(json!({
            "name": "Backup \u{1b}[31mfailed\u{1b}[0m\u{7}",
            "body": format!("Pasted from the terminal: {every_c0} end."),
            "components": {"blog": "partial_outage"}
        }))
        .await;
    // A note stored before control characters were stripped on input.
    let row: i64 = id.parse().expect("id");
    app.state
        .writer
        .run(move |tx| {
            tx.execute(
                "UPDATE incident_updates SET body_html = ?2 WHERE incident_id = ?1",
                rusqlite::params![row, "<p>old \u{1b}[1mnote\u{0}</p>"],
            )?;
            Ok(())
        })
        .await
        .expect("old note");
    app.state.renderer.refresh().await.expect("render");
    for path in [
        "/feed.rss",
        "/feed.atom",
        "/history.rss",
        "/history.atom",
        "/components/blog/feed.rss",
        "/components/blog/feed.atom",
    ] {
        let text = app.get(path).await.text().await.expect("body");
        roxmltree::Document::parse(&text)
            .unwrap_or_else(|e| panic!("{path} is not well-formed XML: {e}"));
        let feed = parse(&app, path).await;
        let title = feed.entries[0]
            .title
            .as_ref()
            .expect("title")
            .content
            .clone();
        assert_eq!(title, "[Investigating] Backup [31mfailed[0m", "{path}");
    }
    let page = app
        .get(&format!("/incidents/{id}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("Backup [31mfailed[0m"));
}

/// Item ids of a feed read with feed-rs (which reads RSS, Atom and JSON Feed alike).
async fn ids(app: &TestApp, path: &str) -> Vec<String> {
    parse(app, path)
        .await
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_feed_holds_the_same_items_as_rss_and_atom_and_grows_with_them() {
    let (app, _) = app_with_history().await;
    let response = app.get("/feed.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/feed+json; charset=utf-8")
    );
    let doc: serde_json::Value = response.json().await.expect("json");
    assert_eq!(doc["version"], "https://jsonfeed.org/version/1.1");
    assert!(
        doc["feed_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/feed.json"))
    );
    assert!(doc.get("hubs").is_none(), "no hubs configured");
    for (json, atom, rss) in [
        ("/feed.json", "/feed.atom", "/feed.rss"),
        (
            "/components/blog/feed.json",
            "/components/blog/feed.atom",
            "/components/blog/feed.rss",
        ),
    ] {
        let json_ids = ids(&app, json).await;
        assert_eq!(json_ids, ids(&app, atom).await, "{json} and {atom}");
        assert_eq!(json_ids, ids(&app, rss).await, "{json} and {rss}");
    }
    let before: Vec<usize> = [
        ids(&app, "/feed.json").await.len(),
        ids(&app, "/feed.atom").await.len(),
        ids(&app, "/feed.rss").await.len(),
    ]
    .to_vec();
    app.open_incident(
        json!({"name": "Comments slow", "components": {"blog": "degraded_performance"}}),
    )
    .await;
    app.settle().await;
    let after = vec![
        ids(&app, "/feed.json").await.len(),
        ids(&app, "/feed.atom").await.len(),
        ids(&app, "/feed.rss").await.len(),
    ];
    assert_eq!(after, before.iter().map(|n| n + 1).collect::<Vec<_>>());
    let page = app.get("/").await;
    let link = page
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        link.contains("/feed.atom>; rel=\"alternate\"; type=\"application/atom+xml\""),
        "{link}"
    );
    let html = page.text().await.expect("page");
    assert!(
        html.contains("type=\"application/feed+json\""),
        "autodiscovery"
    );
}

/// A scheduled maintenance, from 10:00 to 11:30 UTC two days from now.
fn window_in_two_days() -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    use chrono::{Days, TimeZone};
    let day = chrono::Utc::now().date_naive() + Days::new(2);
    let from = chrono::Utc.from_utc_datetime(&day.and_hms_opt(10, 0, 0).expect("time"));
    (from, from + chrono::Duration::minutes(90))
}

/// What every feed item, mail and webhook about the window says: its times in the page's
/// zone (Berlin) and in UTC.
pub fn berlin_window_words(
    from: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
) -> String {
    let tz = chrono_tz::Europe::Berlin;
    let (f, u) = (from.with_timezone(&tz), until.with_timezone(&tz));
    format!(
        "{} – {} ({} – {})",
        f.format("%a %Y-%m-%d %H:%M"),
        u.format("%H:%M %Z"),
        from.format("%H:%M"),
        until.format("%H:%M UTC")
    )
}

/// SPEC §11: a feed item about a maintenance says its window, in the page zone and in UTC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_item_says_its_window_in_the_page_zone_and_utc() {
    let app = crate::helpers::spawn_app_in_zone(
        "Europe/Berlin",
        &http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    )
    .await;
    let (from, until) = window_in_two_days();
    app.schedule_maintenance(from, until, &["blog"]).await;
    let words = berlin_window_words(from, until);
    for path in [
        "/feed.rss",
        "/feed.atom",
        "/feed.json",
        "/components/blog/feed.rss",
    ] {
        let feed = parse(&app, path).await;
        let entry = &feed.entries[0];
        let content = entry
            .content
            .as_ref()
            .and_then(|c| c.body.clone())
            .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
            .unwrap_or_default();
        assert!(
            content.contains(&words),
            "{path}: {content:?} says {words:?}"
        );
    }
}
