//! The spine end to end: fake sites → checks → state machine → page and Statuspage JSON.

use std::time::Duration;

use scraper::{Html, Selector};
use signalfire::db::uptime::{self, BucketDelta, Table};
use signalfire::domain::check::CheckResult;
use signalfire::domain::uptime::{date_key, format_percent};

use crate::helpers::{Behavior, FakeSite, http_monitor, spawn_app};

const FAST: &str = "interval = \"1s\"\nfailures_before_down = 2\nsuccesses_before_up = 2\n";
/// A schedule that never fires during a test, for tests that feed results themselves.
const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

fn select<'a>(doc: &'a Html, css: &str) -> Vec<scraper::ElementRef<'a>> {
    let selector = Selector::parse(css).expect("valid selector");
    doc.select(&selector).collect()
}

fn text(element: &scraper::ElementRef<'_>) -> String {
    element.text().collect::<String>().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_failing_and_silent_sites_show_operational_and_major_outage_then_recover() {
    let up = FakeSite::start(Behavior::Ok("hello".into())).await;
    let failing = FakeSite::start(Behavior::Status(500)).await;
    let silent = FakeSite::start(Behavior::Never).await;
    let app = spawn_app(
        &[
            http_monitor("up", &up.url(), FAST),
            http_monitor("failing", &failing.url(), FAST),
            http_monitor(
                "silent",
                &silent.url(),
                &format!("{FAST}timeout = \"800ms\"\n"),
            ),
        ]
        .concat(),
    )
    .await;

    app.tick(Duration::from_secs(1)).await;
    app.tick(Duration::from_secs(1)).await;
    let settled = app.component_status("up").await.as_deref() == Some("operational")
        && app.component_status("failing").await.as_deref() == Some("major_outage")
        && app.component_status("silent").await.as_deref() == Some("major_outage");
    assert!(
        settled,
        "statuses did not settle within 5 s: {}",
        app.get_json("/api/v2/components.json").await
    );

    let status = app.get_json("/api/v2/status.json").await;
    assert_ne!(status["status"]["indicator"], "none");
    assert_eq!(status["status"]["description"], "Partial System Outage");

    let page = app.get_html("/").await;
    let pill = |id: &str| {
        select(&page, &format!("#component-{id} .pill"))
            .first()
            .map(text)
    };
    assert_eq!(pill("up").as_deref(), Some("Operational"));
    assert_eq!(pill("failing").as_deref(), Some("Major outage"));
    assert_eq!(pill("silent").as_deref(), Some("Major outage"));
    let banner = select(&page, ".banner__title");
    assert_eq!(text(&banner[0]), "Partial System Outage");
    let reasons: Vec<String> = select(&page, "#component-failing .component__reason")
        .iter()
        .map(text)
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("HTTP 500 Internal Server Error")),
        "{reasons:?}"
    );
    let reasons: Vec<String> = select(&page, "#component-silent .component__reason")
        .iter()
        .map(text)
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("timed out after 800ms")),
        "{reasons:?}"
    );

    failing.set(Behavior::Ok("fixed".into()));
    app.tick(Duration::from_secs(1)).await;
    app.tick(Duration::from_secs(1)).await;
    let recovered = app.component_status("failing").await.as_deref() == Some("operational");
    assert!(recovered, "the repaired site did not become operational");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ninety_days_of_buckets_become_ninety_labelled_bars() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let row = app.monitor().row;
    let today = chrono::Utc::now().date_naive();
    let days: Vec<_> = (0..90u64)
        .map(|back| today - chrono::Days::new(back))
        .collect();
    let seeded = days.clone();
    app.state
        .db
        .write(move |tx| {
            for (i, day) in seeded.iter().enumerate() {
                let failures = (i % 5) as i64;
                let delta = BucketDelta {
                    checks: 1_000,
                    successes: 1_000 - failures * 7,
                    response_sum_ms: 50_000,
                    response_min_ms: 20,
                    response_max_ms: 90,
                };
                uptime::add(tx, Table::Daily, row, date_key(*day), delta)?;
            }
            Ok(())
        })
        .await
        .expect("seed buckets");
    // Written behind the server's back: the settled days are read when it starts.
    let app = app.restart().await;

    let page = app.get_html("/").await;
    let bars = select(&page, "#component-blog ol.bars > li");
    assert_eq!(bars.len(), 90);
    for (i, bar) in bars.iter().enumerate() {
        let back = 89 - i;
        let day = days[back];
        let pct = (1_000.0 - (back % 5) as f64 * 7.0) / 10.0;
        let expected = format!("{}: {}", day.format("%Y-%m-%d"), format_percent(pct));
        let sr = bar
            .select(&Selector::parse("span").expect("selector"))
            .next()
            .map(|e| text(&e));
        assert_eq!(
            sr.as_deref(),
            Some(expected.as_str()),
            "screen-reader text of bar {i}"
        );
        let class = bar.value().attr("class").unwrap_or_default();
        let level = match back % 5 {
            0 => "good",
            1 => "minor",
            _ => "major",
        };
        assert!(
            class.contains(level),
            "bar {i} ({expected}) has class {class}"
        );
    }
}

/// The class and screen-reader text of the bar for `day`.
fn bar_of(page: &Html, day: chrono::NaiveDate) -> (String, String) {
    let bars = select(page, "#component-blog ol.bars > li");
    let label = day.format("%Y-%m-%d").to_string();
    let bar = bars
        .iter()
        .find(|b| text(b).contains(&label))
        .unwrap_or_else(|| panic!("no bar for {label}"));
    (
        bar.value().attr("class").unwrap_or_default().to_string(),
        text(bar),
    )
}

/// The days before yesterday are kept in memory between renders: as days pass, each day's bar
/// keeps its checks, and today's checks still show at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bars_keep_their_days_as_days_pass_and_show_todays_checks_at_once() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let first = app.clock.now();
    let down = CheckResult::down(first, Duration::from_millis(4), "HTTP 503");
    app.apply_times(&down, 1).await;
    app.clock.advance(Duration::from_secs(86_400));
    let up = CheckResult::up(app.clock.now(), Duration::from_millis(4));
    app.apply_times(&up, 3).await;
    // Three days on, both days are settled; a check today shows on the next render.
    app.clock.advance(Duration::from_secs(3 * 86_400));
    app.render().await;
    let page = app.get_html("/").await;
    let (class, label) = bar_of(&page, first.date_naive());
    assert!(class.contains("major"), "{label}: {class}");
    let second = first.date_naive() + chrono::Days::new(1);
    let (class, label) = bar_of(&page, second);
    assert!(class.contains("good"), "{label}: {class}");
    let today = app.clock.now().date_naive();
    let (class, label) = bar_of(&page, today);
    assert!(class.contains("none"), "{label}: {class}");

    app.apply_times(
        &CheckResult::up(app.clock.now(), Duration::from_millis(4)),
        1,
    )
    .await;
    app.render().await;
    let page = app.get_html("/").await;
    let (class, label) = bar_of(&page, today);
    assert!(class.contains("good"), "{label}: {class}");
    assert!(bar_of(&page, first.date_naive()).0.contains("major"));
    assert!(bar_of(&page, second).0.contains("good"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_answers_304_to_a_matching_etag_and_changes_etag_on_change() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let first = app.get("/").await;
    let etag = first.headers()["etag"].to_str().expect("etag").to_string();
    assert!(first.headers().contains_key("last-modified"));

    let again = app.get_if_none_match("/", &etag).await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.expect("body").is_empty());

    let down = signalfire::domain::check::CheckResult::down(
        chrono::Utc::now(),
        Duration::from_millis(5),
        "HTTP 503",
    );
    app.apply_times(&down, 3).await;
    let changed = app.get_if_none_match("/", &etag).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().expect("etag"), etag);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_assets_and_not_found() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body"), "ok");

    let css = app.get("/assets/style.css").await;
    assert_eq!(css.status(), 200);
    assert!(
        css.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/css")
    );
    assert_eq!(app.get("/assets/favicon.svg").await.status(), 200);

    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    let doc = Html::parse_document(&missing.text().await.expect("body"));
    assert_eq!(text(&select(&doc, "h1")[0]), "Page not found");

    let api_missing = app.get("/api/v2/nothing.json").await;
    assert_eq!(api_missing.status(), 404);
    let body: serde_json::Value = api_missing.json().await.expect("json error");
    assert!(body["error"].as_str().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_server_shows_no_component_as_operational_before_its_first_check() {
    let site = FakeSite::start(Behavior::Ok("hello".into())).await;
    let app = spawn_app(
        &[
            http_monitor("blog", &site.url(), "interval = \"30s\"\n"),
            "[[monitor]]\nid = \"stats\"\nkind = \"heartbeat\"\ntoken = \"statistics-job-token-01\"\ngrace = \"1h\"\n".to_string(),
        ]
        .concat(),
    )
    .await;
    let page = app.get_html("/").await;
    let pills: Vec<String> = select(&page, ".component .pill").iter().map(text).collect();
    assert_eq!(pills, vec!["Checking…", "Waiting"]);
    assert!(!pills.iter().any(|p| p == "Operational"));
    let meta: Vec<String> = select(&page, ".component__meta").iter().map(text).collect();
    assert_eq!(
        meta,
        vec!["Waiting for the first check", "Waiting for the first ping"]
    );
    assert_eq!(
        text(&select(&page, ".banner__title")[0]),
        "Waiting for the first checks"
    );
    let components = app.get_json("/api/v2/components.json").await;
    let blog = &components["components"][0];
    assert_eq!(blog["status"], "operational", "a valid Statuspage status");
    assert_eq!(blog["description"], "Waiting for the first check");
    assert_eq!(
        components["components"][1]["description"],
        "Waiting for the first ping"
    );

    app.tick(std::time::Duration::from_secs(30)).await;
    let page = app.get_html("/").await;
    let pills: Vec<String> = select(&page, ".component .pill").iter().map(text).collect();
    assert_eq!(pills, vec!["Operational", "Waiting"], "checked now");
    let components = app.get_json("/api/v2/components.json").await;
    assert!(components["components"][0]["description"].is_null());
}

/// SPEC §11: checks inside a maintenance window of the component count neither up nor down;
/// a day spent entirely in maintenance shows as maintenance, not as an outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_inside_a_maintenance_window_count_neither_up_nor_down() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let start = app.clock.now();
    // Long enough to cover the whole next day, wherever in today it begins.
    app.schedule_maintenance(
        start - chrono::Duration::minutes(1),
        start + chrono::Duration::hours(50),
        &["blog"],
    )
    .await;
    let down = |at| CheckResult::down(at, Duration::from_millis(4), "HTTP 503");
    app.apply_times(&down(start), 3).await;
    app.clock.advance(Duration::from_secs(86_400));
    app.apply_times(&down(app.clock.now()), 3).await;
    app.clock
        .advance(Duration::from_secs(2 * 86_400 + 3 * 3_600));
    let up = CheckResult::up(app.clock.now(), Duration::from_millis(4));
    app.apply_times(&up, 1).await;
    app.render().await;

    let page = app.get_html("/").await;
    for day in [
        start.date_naive(),
        start.date_naive() + chrono::Days::new(1),
    ] {
        let (class, label) = bar_of(&page, day);
        assert!(class.contains("maintenance"), "{label}: {class}");
        assert!(label.ends_with(": maintenance"), "{label}");
    }
    let (class, label) = bar_of(&page, app.clock.now().date_naive());
    assert!(class.contains("good"), "{label}: {class}");
    let uptime = text(&select(&page, "#component-blog .legend__uptime")[0]);
    assert_eq!(uptime, "100% uptime", "the window's failures do not count");
}

/// SPEC §11: the daily bars are days of `[page] timezone` (the page says which), and a change
/// of zone re-keys the days that still have hourly buckets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_are_days_of_the_page_zone_and_follow_a_change_of_zone() {
    let app = crate::helpers::spawn_app_in_zone(
        "Europe/Berlin",
        &http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    )
    .await;
    // 23:30 UTC is already the next day in Berlin (UTC+1, or +2 in summer).
    let utc_day = app.clock.now().date_naive() + chrono::Days::new(1);
    let berlin_day = utc_day + chrono::Days::new(1);
    let at = utc_day.and_hms_opt(23, 30, 0).expect("time").and_utc();
    app.clock.set(at);
    let down = CheckResult::down(at, Duration::from_millis(4), "HTTP 503");
    app.apply_times(&down, 1).await;
    app.render().await;
    let page = app.get_html("/").await;
    assert!(
        bar_of(&page, berlin_day).0.contains("major"),
        "counted on the Berlin day"
    );
    assert!(
        bar_of(&page, utc_day).0.contains("none"),
        "not on the UTC day"
    );
    let zone = text(&select(&page, ".components__zone")[0]);
    assert!(zone.contains("Europe/Berlin"), "{zone}");

    let app = app.restart_in_zone("UTC").await;
    let page = app.get_html("/").await;
    assert!(
        bar_of(&page, utc_day).0.contains("major"),
        "re-keyed to the UTC day"
    );
    let zone = text(&select(&page, ".components__zone")[0]);
    assert!(zone.contains("UTC"), "{zone}");

    let app = app.restart_in_zone("Europe/Berlin").await;
    let page = app.get_html("/").await;
    assert!(bar_of(&page, berlin_day).0.contains("major"), "and back");
    assert!(bar_of(&page, utc_day).0.contains("none"));
}
