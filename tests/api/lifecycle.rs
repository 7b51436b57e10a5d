//! The lifecycle of an incident as people see it: the poller stays quiet on the owner's
//! incidents, its own texts say what a client needs (never the check URL), the first update
//! says the status before, and a flapping monitor reopens one incident and sends few mails.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Behavior, FakeSite, TestApp, http_monitor, spawn_app};
use crate::notify::{channel, confirm, sign_up};
use crate::receivers::{Receiver, Reply, SmtpSink};

const CLIENT: &str = "client@test.example";
const OWNER: &str = "owner@test.example";
const TEN_SECONDS: Duration = Duration::from_secs(10);

/// Signs `CLIENT` up for everything and confirms.
async fn subscribe(app: &TestApp, smtp: &SmtpSink) {
    let link = sign_up(app, smtp, CLIENT, &[]).await;
    let path = link
        .split_once("/subscribe")
        .map(|(_, p)| format!("/subscribe{p}"))
        .expect("path");
    assert_eq!(confirm(app, &path).await.status(), 200);
}

/// The mails `CLIENT` got after the confirmation.
fn client_mails(smtp: &SmtpSink) -> Vec<crate::receivers::Mail> {
    smtp.to(CLIENT).into_iter().skip(1).collect()
}

async fn text(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.expect("body")
}

/// Every public place an incident's words show.
async fn public_texts(app: &TestApp, incident: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        "/".to_string(),
        format!("/incidents/{incident}"),
        "/embed".to_string(),
        "/widget.json".to_string(),
        "/feed.rss".to_string(),
        "/feed.atom".to_string(),
        "/feed.json".to_string(),
        "/api/v2/incidents.json".to_string(),
        "/api/v2/summary.json".to_string(),
    ] {
        let body = text(app, &path).await;
        out.push((path, body));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_an_owners_incident_the_poller_tells_the_owner_and_leaves_the_public_words_alone() {
    let smtp = SmtpSink::start().await;
    let site = FakeSite::start(Behavior::Ok("fine".into())).await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}{}",
        smtp.config(),
        http_monitor(
            "blog",
            &site.url(),
            "interval = \"10s\"\nfailures_before_down = 1\nsuccesses_before_up = 1\n"
        ),
        channel(
            "owner-mail",
            "email",
            &format!("to = [\"{OWNER}\"]\nevents = [\"monitor\", \"incident\"]")
        ),
    ))
    .await;
    app.tick(TEN_SECONDS).await;
    subscribe(&app, &smtp).await;
    let id = app
        .open_incident(json!({"name": "Blog moves host", "status": "identified", "body": "We are moving the blog to a new host tonight.", "components": {"blog": "degraded_performance"}}))
        .await;
    app.deliver().await;
    assert_eq!(
        client_mails(&smtp).len(),
        1,
        "the owner's words reach clients"
    );

    site.set(Behavior::Status(503));
    app.tick(TEN_SECONDS).await;
    assert_eq!(
        app.component_status("blog").await.as_deref(),
        Some("major_outage"),
        "the poller still sets the component"
    );
    site.set(Behavior::Ok("fine".into()));
    app.tick(TEN_SECONDS).await;
    app.deliver().await;

    let mails = client_mails(&smtp);
    let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    assert_eq!(
        subjects,
        vec!["[Identified] Blog moves host"],
        "no machine notes to clients"
    );
    let owner: Vec<String> = smtp.to(OWNER).iter().map(|m| m.subject()).collect();
    assert!(
        owner.contains(&"blog site is down".to_string())
            && owner.contains(&"blog site is up again".to_string()),
        "the owner hears the monitor: {owner:?}"
    );
    let incidents = app.get_json("/api/v2/incidents.json").await;
    let updates = incidents["incidents"][0]["incident_updates"]
        .as_array()
        .expect("updates");
    assert_eq!(updates.len(), 1, "no poller update: {updates:?}");
    for (path, body) in public_texts(&app, &id).await {
        assert!(
            !body.contains("detected automatically") && !body.contains("responding again"),
            "{path} shows a machine note"
        );
        // The embed and the widget name incidents without their updates.
        if path != "/embed" && path != "/widget.json" {
            assert!(
                body.contains("moving the blog"),
                "{path} shows the owner's words"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_incident_texts_never_carry_the_check_url_but_the_owners_alert_does() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = refused.local_addr().expect("addr").port();
    drop(refused);
    let target = format!("127.0.0.1:{port}");
    let smtp = SmtpSink::start().await;
    let hooks = Receiver::start(Reply::Status(200)).await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}{}{}",
        smtp.config(),
        http_monitor(
            "api",
            &format!("http://{target}/healthz?token=s3cret"),
            "interval = \"10s\"\nfailures_before_down = 1\n"
        ),
        channel(
            "owner-mail",
            "email",
            &format!("to = [\"{OWNER}\"]\nevents = [\"monitor\"]")
        ),
        channel(
            "hooks",
            "webhook",
            &format!("url = \"{}\"\nevents = [\"incident\"]", hooks.url("/in"))
        ),
    ))
    .await;
    subscribe(&app, &smtp).await;
    app.tick(TEN_SECONDS).await;
    app.deliver().await;

    let open = app.get_json("/api/v2/incidents/unresolved.json").await;
    let id = open["incidents"][0]["id"]
        .as_str()
        .expect("an incident")
        .to_string();
    let body = open["incidents"][0]["incident_updates"][0]["body"]
        .as_str()
        .expect("body")
        .to_string();
    assert!(body.contains("connection refused"), "what failed: {body}");
    let mut public = public_texts(&app, &id).await;
    let mails = client_mails(&smtp);
    assert_eq!(mails.len(), 1);
    public.push(("subscriber mail".into(), mails[0].text()));
    let hook = hooks.wait_for("/in", 1).await;
    public.push((
        "webhook".into(),
        String::from_utf8_lossy(&hook[0].body).into(),
    ));
    for (place, body) in public {
        for secret in [target.as_str(), "healthz", "s3cret", &port.to_string()] {
            assert!(!body.contains(secret), "{place} carries {secret}");
        }
    }
    let alert = smtp.wait_for(OWNER, 1).await;
    assert!(
        alert[0].text().contains(&format!("{target}/healthz")),
        "the owner's alert names the check: {}",
        alert[0].text()
    );
}

/// The `affected_components` of an incident's first update, from the webhook.
fn first_change(request: &crate::receivers::Request) -> Value {
    let body = request.json();
    let updates = body["incident"]["incident_updates"]
        .as_array()
        .expect("updates")
        .clone();
    updates.last().expect("first update")["affected_components"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_automatic_update_says_the_status_before_and_never_the_same_twice() {
    let hooks = Receiver::start(Reply::Status(200)).await;
    let site = FakeSite::start(Behavior::Ok("fine".into())).await;
    let never_checked = FakeSite::start(Behavior::Status(503)).await;
    let app = spawn_app(&format!(
        "{}{}{}",
        http_monitor(
            "blog",
            &site.url(),
            "interval = \"10s\"\nfailures_before_down = 1\n"
        ),
        http_monitor(
            "shop",
            &never_checked.url(),
            "interval = \"20s\"\nfailures_before_down = 1\n"
        ),
        channel(
            "hooks",
            "webhook",
            &format!("url = \"{}\"", hooks.url("/in"))
        ),
    ))
    .await;
    // blog is operational first; shop never had a good check.
    app.tick(TEN_SECONDS).await;
    site.set(Behavior::Status(503));
    app.tick(TEN_SECONDS).await;
    app.tick(TEN_SECONDS).await;
    app.deliver().await;

    let requests = hooks.wait_for("/in", 4).await;
    let component_updates: Vec<Value> = requests
        .iter()
        .map(|r| r.json())
        .filter(|b| b.get("component_update").is_some())
        .map(|b| b["component_update"].clone())
        .collect();
    assert!(!component_updates.is_empty());
    for c in &component_updates {
        assert_ne!(c["old_status"], c["new_status"], "{c}");
    }
    let blog_update = component_updates
        .iter()
        .find(|c| c["component_id"] == "blog")
        .expect("blog's");
    assert_eq!(blog_update["old_status"], "operational");
    let shop_update = component_updates
        .iter()
        .find(|c| c["component_id"] == "shop")
        .expect("shop's");
    assert_eq!(
        shop_update["old_status"],
        Value::Null,
        "never checked: no old status"
    );

    let incidents: Vec<&crate::receivers::Request> = requests
        .iter()
        .filter(|r| r.json().get("incident").is_some())
        .collect();
    let blog = incidents
        .iter()
        .find(|r| r.json()["incident"]["name"] == "blog site is down")
        .expect("blog's incident");
    let change = first_change(blog);
    assert_eq!(change["old_status"], "operational", "{change}");
    assert_eq!(change["new_status"], "major_outage");
    let shop = incidents
        .iter()
        .find(|r| r.json()["incident"]["name"] == "shop site is down")
        .expect("shop's incident");
    let change = first_change(shop);
    assert_eq!(change["old_status"], Value::Null, "{change}");
    assert_eq!(change["new_status"], "major_outage");

    for path in ["/", "/feed.atom", "/feed.rss", "/history"] {
        let body = text(&app, path).await;
        assert!(
            !body.contains("Major outage → Major outage")
                && !body.contains(
                    "Major outage</span> → <span class=\"pill pill--major_outage\">Major outage"
                ),
            "{path} says Major outage → Major outage"
        );
    }
    let blog_id = blog.json()["incident"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let page = text(&app, &format!("/incidents/{blog_id}")).await;
    assert!(
        page.contains(
            "pill--operational\">Operational</span> → <span class=\"pill pill--major_outage\">"
        ),
        "the status before: {page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monitor_flapping_for_half_an_hour_reopens_one_incident_and_sends_few_mails() {
    let smtp = SmtpSink::start().await;
    let site = FakeSite::start(Behavior::Ok("fine".into())).await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}{}",
        smtp.config(),
        http_monitor(
            "blog",
            &site.url(),
            "interval = \"10s\"\nfailures_before_down = 1\nsuccesses_before_up = 1\n"
        ),
        channel("owner-mail", "email", &format!("to = [\"{OWNER}\"]")),
    ))
    .await;
    app.tick(TEN_SECONDS).await;
    subscribe(&app, &smtp).await;
    // Down for 20 s, up for 20 s, for 30 minutes: 45 outages.
    for step in 0..180 {
        if step % 2 == 0 {
            let down = (step / 2) % 2 == 0;
            site.set(if down {
                Behavior::Status(503)
            } else {
                Behavior::Ok("fine".into())
            });
        }
        app.tick(TEN_SECONDS).await;
        app.deliver().await;
    }
    // It stays up; whatever was held arrives.
    site.set(Behavior::Ok("fine".into()));
    for _ in 0..70 {
        app.tick(TEN_SECONDS).await;
        app.deliver().await;
    }

    let all = app.get_json("/api/v2/incidents.json").await;
    let incidents = all["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "one incident, reopened");
    assert_eq!(incidents[0]["status"], "resolved");
    let mails = client_mails(&smtp);
    assert!(
        !mails.is_empty() && mails.len() <= 6,
        "at most 6 mails per subscriber, got {}",
        mails.len()
    );
    let last = mails.last().expect("a mail");
    assert!(
        last.subject().starts_with("[Resolved]"),
        "the last mail says the current truth: {}",
        last.subject()
    );
    assert!(
        last.text().contains("Also since"),
        "the updates held back are in it: {}",
        last.text()
    );
    let owner = smtp.to(OWNER);
    // 6 alerts before it counts as flapping, one "flapping" alert, a digest per 10 min (3),
    // and the incident's gathered updates as the subscribers get them (4): 14, not 225.
    assert_eq!(
        owner.len(),
        14,
        "{:?}",
        owner.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    let subjects: Vec<String> = owner.iter().map(|m| m.subject()).collect();
    assert!(
        subjects.iter().any(|s| s.contains("flapping")),
        "{subjects:?}"
    );
}

#[test]
fn flap_damping_settings_are_checked_at_their_positions() {
    let lines = crate::config_cli::problems(
        "[incidents]\nreopen_within = \"2d\"\nflap_window = \"0s\"\nflap_changes = 1\n\n\
         [subscribers]\nmin_interval = \"soon\"\n",
    );
    let expected = [
        "config.toml:2:17: reopen_within must be at most 1d",
        "config.toml:3:15: flap_window must be longer than 0s",
        "config.toml:4:16: flap_changes",
        "config.toml:7:16: min_interval:",
    ];
    for start in expected {
        assert!(
            lines.iter().any(|l| l.starts_with(start)),
            "{start} in {lines:?}"
        );
    }
    let (code, _, stderr) = crate::config_cli::check_config(
        "[incidents]\nreopen_within = \"0s\"\nflap_window = \"15m\"\nflap_changes = 10\n\n\
         [subscribers]\nmin_interval = \"0s\"\n",
    );
    assert_eq!(code, 0, "{stderr}");
}

/// A blog checked every 10 s (down at its first failure, up at its first success) that
/// `CLIENT` follows: it went down (mailed at once) and came back (that mail held back).
async fn an_outage_whose_resolution_is_held() -> (SmtpSink, FakeSite, TestApp) {
    let smtp = SmtpSink::start().await;
    let site = FakeSite::start(Behavior::Ok("fine".into())).await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}",
        smtp.config(),
        http_monitor(
            "blog",
            &site.url(),
            "interval = \"10s\"\nfailures_before_down = 1\nsuccesses_before_up = 1\n"
        ),
    ))
    .await;
    app.tick(TEN_SECONDS).await;
    subscribe(&app, &smtp).await;
    site.set(Behavior::Status(503));
    app.tick(TEN_SECONDS).await;
    app.deliver().await;
    assert_eq!(client_mails(&smtp).len(), 1, "the outage, at once");

    site.set(Behavior::Ok("fine".into()));
    app.tick(TEN_SECONDS).await;
    app.deliver().await;
    assert_eq!(client_mails(&smtp).len(), 1, "the resolution is held");
    (smtp, site, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_mail_keeps_its_time_across_a_restart_and_goes_with_the_owners_words() {
    let (smtp, site, app) = an_outage_whose_resolution_is_held().await;
    let app = app.restart().await;
    app.deliver().await;
    assert_eq!(
        client_mails(&smtp).len(),
        1,
        "a restart keeps a held mail's time"
    );
    site.set(Behavior::Status(503));
    app.tick(TEN_SECONDS).await;
    app.deliver().await;
    assert_eq!(client_mails(&smtp).len(), 1, "down again: gathered");

    let open = app.get_json("/api/v2/incidents/unresolved.json").await;
    let id = open["incidents"][0]["id"]
        .as_str()
        .expect("reopened")
        .to_string();
    let posted = app.post_update(&id, "identified", "A bad cable.").await;
    assert_eq!(posted.status(), 201);
    app.deliver().await;
    let mails = client_mails(&smtp);
    assert_eq!(mails.len(), 2, "the owner's words go at once");
    assert_eq!(mails[1].subject(), "[Identified] blog site is down");
    let text = mails[1].text();
    assert!(
        text.contains("A bad cable.") && text.contains("Also since"),
        "{text}"
    );
    assert!(
        text.contains("Resolved: **blog site** is back up")
            && text.contains("Investigating: **blog site** is down again"),
        "with what was held: {text}"
    );
    app.clock.advance(Duration::from_secs(15 * 60));
    app.deliver().await;
    assert_eq!(client_mails(&smtp).len(), 2, "and never twice");
}

/// A deleted incident tells nobody any more: the mail flap damping held back for it is not
/// sent later (it would link to a page that is gone; the confirm page says "Nobody is told").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_incident_drops_the_mail_held_back_for_it() {
    let (smtp, _site, app) = an_outage_whose_resolution_is_held().await;

    let all = app.get_json("/api/v2/incidents.json").await;
    let id = all["incidents"][0]["id"].as_str().expect("id").to_string();
    let deleted = app
        .admin("DELETE", &format!("/api/admin/incidents/{id}"), None)
        .await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    app.clock.advance(Duration::from_secs(15 * 60));
    app.deliver().await;
    assert_eq!(
        client_mails(&smtp).len(),
        1,
        "nothing more about an incident that is gone"
    );
}
