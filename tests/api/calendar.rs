//! The maintenance calendars (`/maintenance.ics`, `/components/{id}/maintenance.ics`), read
//! with a real iCalendar parser, as a calendar app that subscribes would read them; and the
//! owner API calls that change a maintenance (`PATCH`, `DELETE`).

use std::time::Duration;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use icalendar::{
    CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, Event, EventStatus,
};
use serde_json::{Value, json};

use crate::browser::{Browser, csrf};
use crate::export::export_after_stop;
use crate::helpers::{ADMIN_PASSWORD, TestApp, http_monitor, spawn_app};
use crate::receivers::{Receiver, Reply};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

fn two_sites() -> String {
    format!(
        "{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        http_monitor("shop", "http://127.0.0.1:9/", NEVER)
    )
}

/// A whole minute, `from_now` after the app's now (the admin form works in minutes).
fn minute(app: &TestApp, from_now: TimeDelta) -> DateTime<Utc> {
    (app.clock.now() + from_now)
        .duration_trunc(TimeDelta::minutes(1))
        .expect("truncate")
}

/// The raw text of a calendar, after checking how it is served and written: the content
/// type, CRLF line ends, no line over 75 octets.
async fn fetch(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_string();
    assert_eq!(content_type, "text/calendar; charset=utf-8");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let text = response.text().await.expect("body");
    assert_folded(&text);
    text
}

/// RFC 5545 §3.1: CRLF after every line, none longer than 75 octets.
fn assert_folded(text: &str) {
    let body = text.strip_suffix("\r\n").expect("ends with CRLF");
    for line in body.split("\r\n") {
        assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
    }
}

fn parse(text: &str) -> icalendar::Calendar {
    text.parse().expect("a calendar the parser reads")
}

fn events(calendar: &icalendar::Calendar) -> Vec<Event> {
    calendar
        .components
        .iter()
        .filter_map(CalendarComponent::as_event)
        .cloned()
        .collect()
}

fn event_by_uid(calendar: &icalendar::Calendar, uid: &str) -> Event {
    events(calendar)
        .into_iter()
        .find(|e| e.get_uid() == Some(uid))
        .unwrap_or_else(|| panic!("no event {uid}"))
}

fn utc(time: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match time {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at,
        other => panic!("not a UTC date-time: {other:?}"),
    }
}

fn seconds(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::seconds(1)).expect("truncate")
}

fn uid(app: &TestApp, id: &str) -> String {
    let host = app.state.config.server.base_url.host_str().expect("host");
    format!("maintenance-{id}@{host}")
}

async fn patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    let path = format!("/api/admin/maintenances/{id}");
    app.admin("PATCH", &path, Some(body)).await
}

async fn cancel(app: &TestApp, id: &str) -> reqwest::Response {
    let path = format!("/api/admin/maintenances/{id}");
    app.admin("DELETE", &path, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_has_one_event_per_maintenance_in_utc_with_a_stable_uid() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(2));
    let until = from + TimeDelta::hours(2);
    let note = format!(
        "Orders are read-only; payments, refunds and {} are paused.\nBack by 02:00 \\ promised.",
        "the résumé exporter ".repeat(6)
    );
    let response = app
        .admin(
            "POST",
            "/api/admin/maintenances",
            Some(json!({
                "name": "Order system upgrade, part 1; the database",
                "body": note,
                // Given in UTC+02:00: the calendar says it in UTC.
                "scheduled_for": from.with_timezone(&chrono::FixedOffset::east_opt(7200).expect("offset")).to_rfc3339(),
                "scheduled_until": until.to_rfc3339(),
                "components": ["shop"]
            })),
        )
        .await;
    assert_eq!(response.status(), 201);
    let id = response.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_string();

    let text = fetch(&app, "/maintenance.ics").await;
    let calendar = parse(&text);
    let property = |key: &str| calendar.property_value(key).map(str::to_string);
    assert!(property("PRODID").is_some_and(|p| p.contains("signalfire")));
    assert_eq!(property("VERSION").as_deref(), Some("2.0"));
    assert_eq!(
        property("X-WR-CALNAME").as_deref(),
        Some("Test status maintenance")
    );
    assert_eq!(property("X-PUBLISHED-TTL").as_deref(), Some("PT1H"));
    let refresh = calendar
        .properties
        .iter()
        .find(|p| p.key() == "REFRESH-INTERVAL")
        .expect("REFRESH-INTERVAL");
    assert_eq!(refresh.value(), "PT1H");
    assert_eq!(
        refresh.params().get("VALUE").map(|p| p.value()),
        Some("DURATION")
    );

    assert_eq!(events(&calendar).len(), 1);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(utc(event.get_start()), from);
    assert_eq!(utc(event.get_end()), until);
    assert!(event.get_timestamp().is_some(), "DTSTAMP");
    assert_eq!(
        event.get_summary(),
        Some("Order system upgrade, part 1; the database")
    );
    let description = event.get_description().expect("DESCRIPTION");
    assert!(description.starts_with(&note), "{description:?}");
    assert!(
        description.contains("Affects: shop site."),
        "{description:?}"
    );
    let base = app
        .state
        .config
        .server
        .base_url
        .as_str()
        .trim_end_matches('/');
    assert_eq!(
        event.get_url(),
        Some(format!("{base}/incidents/{id}").as_str())
    );
    assert_eq!(event.get_sequence(), Some(0));
    assert_eq!(event.get_status(), Some(EventStatus::Confirmed));

    // The next render, and a restart, give the same event the same UID.
    app.tick(Duration::from_secs(60)).await;
    let app = app.restart().await;
    app.settle().await;
    let again = parse(&fetch(&app, "/maintenance.ics").await);
    assert_eq!(
        event_by_uid(&again, &uid(&app, &id)).get_sequence(),
        Some(0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reschedule_over_the_api_raises_the_sequence_and_keeps_the_uid() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(1));
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(1), &["blog"])
        .await;

    let later = from + TimeDelta::days(7);
    let response = patch(
        &app,
        &id,
        json!({"scheduled_for": later.to_rfc3339(), "scheduled_until": (later + TimeDelta::hours(3)).to_rfc3339(), "body": "Moved to next week."}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.expect("json");
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["status"], "scheduled");
    let scheduled_for = json["scheduled_for"].as_str().expect("scheduled_for");
    assert_eq!(
        DateTime::parse_from_rfc3339(scheduled_for).expect("time"),
        later
    );
    assert_eq!(json["incident_updates"][0]["body"], "Moved to next week.");

    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(utc(event.get_start()), later);
    assert_eq!(utc(event.get_end()), later + TimeDelta::hours(3));
    assert!(
        event
            .get_description()
            .is_some_and(|d| d.starts_with("Moved to next week."))
    );

    // A new name and new components leave the times as they are: so does the sequence.
    let renamed = patch(
        &app,
        &id,
        json!({"name": "Bigger upgrade", "components": ["blog", "shop"]}),
    )
    .await;
    assert_eq!(renamed.status(), 200);
    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(event.get_summary(), Some("Bigger upgrade"));

    // Only the end moves: a reschedule too.
    let longer = patch(
        &app,
        &id,
        json!({"scheduled_until": (later + TimeDelta::hours(4)).to_rfc3339()}),
    )
    .await;
    assert_eq!(longer.status(), 200);
    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(event.get_sequence(), Some(2));
    assert_eq!(utc(event.get_start()), later);
    assert_eq!(utc(event.get_end()), later + TimeDelta::hours(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reschedule_through_the_admin_form_raises_the_sequence() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(1));
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(1), &["shop"])
        .await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.login(ADMIN_PASSWORD).await.status, 303);
    let path = format!("/admin/maintenances/{id}");
    let local = |at: DateTime<Utc>| at.format("%Y-%m-%dT%H:%M").to_string();

    // Saved as it is (the page's time zone is UTC): no new times, no new sequence.
    let form = browser.get(&path).await;
    assert_eq!(form.status, 200);
    let token = csrf(&form.body);
    let (start, end) = (local(from), local(from + TimeDelta::hours(1)));
    let fields = |start: &str, end: &str| {
        vec![
            ("csrf".to_string(), token.clone()),
            ("name".to_string(), "Order system upgrade".to_string()),
            ("scheduled_for".to_string(), start.to_string()),
            ("scheduled_until".to_string(), end.to_string()),
            ("component.shop".to_string(), "on".to_string()),
            ("action".to_string(), "save".to_string()),
        ]
    };
    let same = fields(&start, &end);
    let same: Vec<(&str, &str)> = same.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = browser.post(&path, &same).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    assert_eq!(
        event_by_uid(&calendar, &uid(&app, &id)).get_sequence(),
        Some(0)
    );

    let later = from + TimeDelta::days(1);
    let moved = fields(&local(later), &local(later + TimeDelta::hours(2)));
    let moved: Vec<(&str, &str)> = moved
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let saved = browser.post(&path, &moved).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(utc(event.get_start()), later);
    assert_eq!(utc(event.get_end()), later + TimeDelta::hours(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_maintenance_is_a_cancelled_event_and_stays_in_the_history() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(3));
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(1), &["shop"])
        .await;

    let response = cancel(&app, &id).await;
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.expect("json");
    assert_eq!(json["id"], id.as_str());
    assert_eq!(json["status"], "completed");
    assert_eq!(
        json["incident_updates"][0]["body"],
        "This maintenance has been cancelled."
    );

    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(event.get_status(), Some(EventStatus::Cancelled));
    assert_eq!(event.get_sequence(), Some(1));
    assert_eq!(utc(event.get_start()), from, "the window it had");
    assert!(
        event
            .get_description()
            .is_some_and(|d| d.starts_with("This maintenance has been cancelled."))
    );
    let component = parse(&fetch(&app, "/components/shop/maintenance.ics").await);
    assert_eq!(
        event_by_uid(&component, &uid(&app, &id)).get_status(),
        Some(EventStatus::Cancelled)
    );
    assert_eq!(app.get(&format!("/incidents/{id}")).await.status(), 200);
    let all = app.get_json("/api/v2/scheduled-maintenances.json").await;
    assert_eq!(all["scheduled_maintenances"][0]["id"], id.as_str());

    // Over is over.
    assert_eq!(cancel(&app, &id).await.status(), 422);
    let moved = patch(
        &app,
        &id,
        json!({"scheduled_for": (from + TimeDelta::days(1)).to_rfc3339()}),
    )
    .await;
    assert_eq!(moved.status(), 422);
    let error: Value = moved.json().await.expect("json");
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("cancelled")),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_ended_early_keeps_its_event_which_ends_when_it_did() {
    let app = spawn_app(&two_sites()).await;
    let from = app.clock.now() - TimeDelta::minutes(5);
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(2), &["blog"])
        .await;
    app.clock.advance(Duration::from_secs(30 * 60));
    let ended = app.clock.now();

    assert_eq!(cancel(&app, &id).await.status(), 200);
    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(event.get_status(), Some(EventStatus::Confirmed));
    assert_eq!(utc(event.get_start()), seconds(from));
    assert_eq!(utc(event.get_end()), seconds(ended));
    assert_eq!(event.get_sequence(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_components_calendar_holds_only_the_maintenance_that_affects_it() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(1));
    let until = from + TimeDelta::hours(1);
    let blog = app.schedule_maintenance(from, until, &["blog"]).await;
    let shop = app.schedule_maintenance(from, until, &["shop"]).await;
    let both = app
        .schedule_maintenance(from, until, &["blog", "shop"])
        .await;
    // Ended more than 90 days ago: in no calendar.
    let old_from = app.clock.now() - TimeDelta::days(100);
    app.schedule_maintenance(old_from, old_from + TimeDelta::hours(1), &["blog"])
        .await;

    let uids = |calendar: &icalendar::Calendar| {
        let mut uids: Vec<String> = events(calendar)
            .iter()
            .filter_map(|e| e.get_uid().map(str::to_string))
            .collect();
        uids.sort();
        uids
    };
    let sorted = |ids: &[&str]| {
        let mut uids: Vec<String> = ids.iter().map(|id| uid(&app, id)).collect();
        uids.sort();
        uids
    };
    let page = parse(&fetch(&app, "/maintenance.ics").await);
    assert_eq!(uids(&page), sorted(&[&blog, &shop, &both]));
    let blog_calendar = parse(&fetch(&app, "/components/blog/maintenance.ics").await);
    assert_eq!(uids(&blog_calendar), sorted(&[&blog, &both]));
    assert!(
        blog_calendar
            .property_value("X-WR-CALNAME")
            .is_some_and(|n| n.starts_with("blog site maintenance"))
    );
    let shop_calendar = parse(&fetch(&app, "/components/shop/maintenance.ics").await);
    assert_eq!(uids(&shop_calendar), sorted(&[&shop, &both]));

    // The component's calendar follows its maintenance when it changes.
    let moved = patch(&app, &both, json!({"components": ["shop"]})).await;
    assert_eq!(moved.status(), 200);
    let blog_calendar = parse(&fetch(&app, "/components/blog/maintenance.ics").await);
    assert_eq!(uids(&blog_calendar), sorted(&[&blog]));

    assert_eq!(
        app.get("/components/nope/maintenance.ics").await.status(),
        404
    );
    assert_eq!(app.get("/components/blog/feed.rss").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendars_answer_304_while_the_client_copy_is_current() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(1));
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(1), &["blog"])
        .await;
    for path in ["/maintenance.ics", "/components/blog/maintenance.ics"] {
        let first = app.get(path).await;
        assert_eq!(first.status(), 200);
        let etag = first.headers()["etag"].to_str().expect("etag").to_string();
        assert!(first.headers().contains_key("last-modified"));
        let again = app.get_if_none_match(path, &etag).await;
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.text().await.expect("body").is_empty());

        // Renders after a change elsewhere give the same bytes, so the same tag.
        app.open_incident(json!({"name": "Unrelated"})).await;
        app.render().await;
        let later = app.get_if_none_match(path, &etag).await;
        assert_eq!(later.status(), 304, "{path} after a render");
    }
    let etag = app.get("/maintenance.ics").await.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_string();
    let moved = patch(
        &app,
        &id,
        json!({"scheduled_for": (from + TimeDelta::hours(1)).to_rfc3339(), "scheduled_until": (from + TimeDelta::hours(2)).to_rfc3339()}),
    )
    .await;
    assert_eq!(moved.status(), 200);
    let changed = app.get_if_none_match("/maintenance.ics", &etag).await;
    assert_eq!(changed.status(), 200, "a reschedule is a new calendar");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maintenance_patch_and_delete_refuse_bad_requests_naming_the_field() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(1));
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(1), &["blog"])
        .await;
    let incident = app.open_incident(json!({"name": "Blog is slow"})).await;
    let past = app.clock.now() - TimeDelta::hours(3);
    let completed = app
        .schedule_maintenance(past, past + TimeDelta::hours(1), &["blog"])
        .await;
    let at = |t: DateTime<Utc>| t.to_rfc3339();
    let cases: Vec<(String, Value, u16, &str)> = vec![
        (
            "999".into(),
            json!({"name": "x"}),
            404,
            "no maintenance with id 999",
        ),
        ("abc".into(), json!({"name": "x"}), 404, "no maintenance"),
        (
            incident.clone(),
            json!({"name": "x"}),
            404,
            "no maintenance",
        ),
        (
            completed.clone(),
            json!({"name": "x"}),
            422,
            "completed or cancelled",
        ),
        (id.clone(), json!({}), 400, "nothing to change"),
        (
            id.clone(),
            json!({"deliver_notifications": false}),
            400,
            "nothing to change",
        ),
        (id.clone(), json!({"status": "completed"}), 400, "status"),
        (id.clone(), json!({"name": 5}), 400, "name:"),
        (id.clone(), json!({"name": "  "}), 400, "name:"),
        (
            id.clone(),
            json!({"scheduled_for": "tomorrow"}),
            400,
            "scheduled_for:",
        ),
        (
            id.clone(),
            json!({"scheduled_until": at(from - TimeDelta::hours(1))}),
            400,
            "scheduled_until:",
        ),
        (
            id.clone(),
            json!({"scheduled_until": at(from + TimeDelta::days(400))}),
            400,
            "scheduled_until:",
        ),
        (
            id.clone(),
            json!({"components": ["blog", "nope"]}),
            400,
            "components[1]:",
        ),
        (
            id.clone(),
            json!({"components": "blog"}),
            400,
            "components:",
        ),
    ];
    for (target, body, status, needle) in cases {
        let response = patch(&app, &target, body.clone()).await;
        assert_eq!(response.status(), status, "PATCH {target} {body}");
        let error: Value = response.json().await.expect("json error");
        let message = error["error"].as_str().expect("error");
        assert!(message.contains(needle), "PATCH {target} {body}: {message}");
    }
    for (target, status, needle) in [
        ("999", 404, "no maintenance with id 999"),
        (incident.as_str(), 404, "no maintenance"),
        (completed.as_str(), 422, "completed or cancelled"),
    ] {
        let response = cancel(&app, target).await;
        assert_eq!(response.status(), status, "DELETE {target}");
        let error: Value = response.json().await.expect("json error");
        let message = error["error"].as_str().expect("error");
        assert!(message.contains(needle), "DELETE {target}: {message}");
    }

    // Nothing changed by any of them.
    let calendar = parse(&fetch(&app, "/maintenance.ics").await);
    let event = event_by_uid(&calendar, &uid(&app, &id));
    assert_eq!(event.get_sequence(), Some(0));
    assert_eq!(utc(event.get_start()), from);
    assert_eq!(event.get_summary(), Some("Order system upgrade"));
    assert_eq!(
        app.get_json("/api/v2/incidents.json").await["incidents"][0]["name"],
        "Blog is slow"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_links_planned_maintenance_and_its_footer_to_the_calendar() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(1));
    app.schedule_maintenance(from, from + TimeDelta::hours(1), &["blog"])
        .await;
    let now = app.clock.now();
    app.schedule_maintenance(
        now - TimeDelta::minutes(1),
        now + TimeDelta::hours(1),
        &["shop"],
    )
    .await;

    let page = app.get_html("/").await;
    let select = |css: &str| {
        let selector = scraper::Selector::parse(css).expect("selector");
        page.select(&selector)
            .map(|a| a.text().collect::<String>())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        select(".incident--maintenance a[href='/maintenance.ics']"),
        vec!["Add to calendar", "Add to calendar"],
        "the active and the scheduled one"
    );
    assert_eq!(
        select("footer a[href='/maintenance.ics']"),
        vec!["Maintenance calendar"]
    );
    fetch(&app, "/maintenance.ics").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_writes_the_calendars_beside_the_pages_that_link_them() {
    let app = spawn_app(&two_sites()).await;
    let from = minute(&app, TimeDelta::days(1));
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(1), &["shop"])
        .await;
    let expected = uid(&app, &id);
    let (out, _) = export_after_stop(app).await;

    let read = |path: &str| std::fs::read_to_string(out.path().join(path)).expect(path);
    let page = read("maintenance.ics");
    assert_folded(&page);
    assert_eq!(
        event_by_uid(&parse(&page), &expected).get_status(),
        Some(EventStatus::Confirmed)
    );
    let shop = read("components/shop/maintenance.ics");
    assert_eq!(events(&parse(&shop)).len(), 1);
    let blog = read("components/blog/maintenance.ics");
    assert!(events(&parse(&blog)).is_empty());

    let index = scraper::Html::parse_document(&read("index.html"));
    let selector = scraper::Selector::parse("a[href='./maintenance.ics']").expect("selector");
    assert_eq!(
        index.select(&selector).count(),
        2,
        "the maintenance's link and the footer's, relative"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_edit_tells_people_a_reschedule_a_note_or_nothing() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let app = spawn_app(&format!(
        "{}[[notify]]\nid = \"ntfy\"\nkind = \"ntfy\"\nurl = \"{}\"\n",
        two_sites(),
        receiver.url("/topic")
    ))
    .await;
    let from = minute(&app, TimeDelta::days(1));
    let id = app
        .schedule_maintenance(from, from + TimeDelta::hours(1), &["blog"])
        .await;
    let titles = |receiver: &Receiver| -> Vec<String> {
        receiver
            .to("/topic")
            .iter()
            .map(|r| r.header("Title").unwrap_or_default().to_string())
            .collect()
    };
    app.deliver().await;
    assert_eq!(titles(&receiver), ["[Scheduled] Order system upgrade"]);

    // A new name alone tells nobody; a note is a note; new times are a reschedule.
    assert_eq!(
        patch(&app, &id, json!({"name": "Upgrade"})).await.status(),
        200
    );
    app.deliver().await;
    assert_eq!(titles(&receiver).len(), 1);
    assert_eq!(
        patch(&app, &id, json!({"body": "Bring snacks."}))
            .await
            .status(),
        200
    );
    app.deliver().await;
    assert_eq!(titles(&receiver)[1], "[Scheduled] Upgrade");
    let later = from + TimeDelta::days(1);
    let moved = json!({"scheduled_for": later.to_rfc3339(), "scheduled_until": (later + TimeDelta::hours(1)).to_rfc3339(), "deliver_notifications": false});
    assert_eq!(patch(&app, &id, moved).await.status(), 200);
    assert_eq!(app.deliver().await, 0, "deliver_notifications: false");
    let moved = json!({"scheduled_for": (later + TimeDelta::hours(1)).to_rfc3339(), "scheduled_until": (later + TimeDelta::hours(2)).to_rfc3339()});
    assert_eq!(patch(&app, &id, moved).await.status(), 200);
    app.deliver().await;
    assert_eq!(titles(&receiver)[2], "[Rescheduled] Upgrade");
    assert_eq!(cancel(&app, &id).await.status(), 200);
    app.deliver().await;
    assert_eq!(titles(&receiver)[3], "[Cancelled] Upgrade");
}
