//! Owner reminders (SPEC §9) end to end: an incident left silent and an incident whose
//! monitors recovered each remind the owner's channels once — through the outbox, across a
//! restart — and never a subscriber or a channel that does not listen for reminders.

use std::time::Duration;

use serde_json::{Value, json};

use crate::config_cli::problems;
use crate::helpers::{Behavior, FakeSite, TestApp, http_monitor, spawn_app};
use crate::notify::{NEVER, channel, sign_up};
use crate::receivers::{Receiver, Reply, SmtpSink};

const MINUTE: Duration = Duration::from_secs(60);
const CLIENT: &str = "client@test.example";
const OWNER: &str = "owner@test.example";

const REMINDERS: &str =
    "[reminders]\nincident_without_update = \"1h\"\nrecovered_but_open = \"15m\"\n\n";

/// The owner's channels: a webhook hearing everything (`/hooks`), one hearing incidents only
/// (`/incidents-only`), and an e-mail channel; subscribers on.
fn owner_channels(receiver: &Receiver, smtp: &SmtpSink) -> String {
    format!(
        "{}[subscribers]\nemail = true\n\n{}{}{}",
        smtp.config(),
        channel(
            "hooks",
            "webhook",
            &format!("url = \"{}\"", receiver.url("/hooks"))
        ),
        channel(
            "incidents-only",
            "webhook",
            &format!(
                "url = \"{}\"\nevents = [\"incident\"]",
                receiver.url("/incidents-only")
            ),
        ),
        channel("owner-mail", "email", &format!("to = [\"{OWNER}\"]")),
    )
}

/// An app with both reminders on, `monitor`, the owner's channels, and a confirmed subscriber
/// following every component.
async fn start(monitor: &str, receiver: &Receiver, smtp: &SmtpSink) -> TestApp {
    let app = spawn_app(&format!(
        "{REMINDERS}{monitor}{}",
        owner_channels(receiver, smtp)
    ))
    .await;
    let link = sign_up(&app, smtp, CLIENT, &[]).await;
    let path = link
        .split_once("/subscribe")
        .map(|(_, p)| format!("/subscribe{p}"))
        .expect("path");
    assert_eq!(crate::notify::confirm(&app, &path).await.status(), 200);
    app
}

/// The `reminder` objects a webhook path received, in order.
fn reminders(receiver: &Receiver, path: &str) -> Vec<Value> {
    receiver
        .to(path)
        .iter()
        .map(|r| r.json())
        .filter_map(|body| body.get("reminder").cloned())
        .collect()
}

/// Moves the clock, runs what is due, and sends what that staged.
async fn tick_and_deliver(app: &TestApp, by: Duration) {
    app.tick(by).await;
    app.deliver().await;
}

/// Nobody but the owner's channels that listen for reminders heard one.
async fn only_the_owner_was_reminded(app: &TestApp, receiver: &Receiver, smtp: &SmtpSink) {
    assert!(
        !receiver.to("/incidents-only").is_empty(),
        "the incident-only channel hears incidents"
    );
    assert_eq!(reminders(receiver, "/incidents-only"), Vec::<Value>::new());
    let client_mails: Vec<String> = smtp.to(CLIENT).iter().map(|m| m.subject()).collect();
    assert!(
        client_mails.iter().any(|s| s.contains("Blog is slow")),
        "the subscriber hears the incident: {client_mails:?}"
    );
    assert!(
        client_mails.iter().all(|s| !s.contains("Reminder")),
        "but never a reminder: {client_mails:?}"
    );
    let deliveries = app.admin("GET", "/api/admin/deliveries", None).await;
    let deliveries: Value = deliveries.json().await.expect("json");
    for d in deliveries["deliveries"].as_array().expect("deliveries") {
        if d["event"] == "reminder" {
            assert!(d["subscriber"].is_null(), "{d}");
            assert!(
                d["channel"] == "hooks" || d["channel"] == "owner-mail",
                "{d}"
            );
            assert_eq!(d["state"], "delivered", "{d}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_left_silent_reminds_the_owner_once_per_update_across_a_restart() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let smtp = SmtpSink::start().await;
    let app = start(
        &http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        &receiver,
        &smtp,
    )
    .await;
    let id = app
        .open_incident(json!({"name": "Blog is slow", "status": "investigating", "body": "Pages take 20 s.", "components": {"blog": "degraded_performance"}}))
        .await;
    app.deliver().await;

    tick_and_deliver(&app, 59 * MINUTE).await;
    assert_eq!(reminders(&receiver, "/hooks"), Vec::<Value>::new());
    // Due now: staged, then the server stops before it is sent.
    app.tick(MINUTE).await;
    let app = app.restart().await;
    tick_and_deliver(&app, MINUTE).await;
    let sent = reminders(&receiver, "/hooks");
    assert_eq!(sent.len(), 1, "sent once, after the restart: {sent:?}");
    let reminder = &sent[0];
    assert_eq!(reminder["kind"], "incident_without_update");
    assert_eq!(reminder["incident"]["id"], id.as_str());
    assert_eq!(reminder["incident"]["name"], "Blog is slow");
    assert!(
        reminder["admin_url"]
            .as_str()
            .expect("admin_url")
            .ends_with(&format!("/admin/incidents/{id}")),
        "{reminder}"
    );
    assert!(
        reminder["text"]
            .as_str()
            .expect("text")
            .starts_with("\"Blog is slow\" has had no update for 1 h"),
        "{reminder}"
    );
    let body = receiver
        .to("/hooks")
        .last()
        .expect("the reminder request")
        .json();
    assert!(
        body["meta"].is_object() && body["page"].is_object(),
        "Statuspage's frame"
    );
    assert!(
        body.get("incident").is_none(),
        "not an incident update to automation"
    );
    let mail = smtp.wait_for(OWNER, 1).await;
    let reminder_mail = mail
        .iter()
        .find(|m| m.subject().starts_with("Reminder:"))
        .expect("the owner's reminder mail");
    assert_eq!(
        reminder_mail.subject(),
        "Reminder: \"Blog is slow\" has had no update for 1 h"
    );
    assert!(
        reminder_mail
            .text()
            .contains(&format!("/admin/incidents/{id}")),
        "{}",
        reminder_mail.text()
    );

    tick_and_deliver(&app, 180 * MINUTE).await;
    assert_eq!(reminders(&receiver, "/hooks").len(), 1, "still once");

    // An update re-arms it: the next silence reminds again.
    let response = app
        .post_update(&id, "identified", "The new host's disk is full.")
        .await;
    assert_eq!(response.status(), 201);
    app.deliver().await;
    tick_and_deliver(&app, 59 * MINUTE).await;
    assert_eq!(reminders(&receiver, "/hooks").len(), 1);
    tick_and_deliver(&app, MINUTE).await;
    let sent = reminders(&receiver, "/hooks");
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[1]["kind"], "incident_without_update");
    assert_eq!(sent[1]["incident"]["status"], "identified");
    tick_and_deliver(&app, 120 * MINUTE).await;
    assert_eq!(reminders(&receiver, "/hooks").len(), 2);
    assert_eq!(
        smtp.to(OWNER)
            .iter()
            .filter(|m| m.subject().starts_with("Reminder:"))
            .count(),
        2
    );
    only_the_owner_was_reminded(&app, &receiver, &smtp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitors_up_again_remind_once_that_the_incident_is_still_open() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let smtp = SmtpSink::start().await;
    let site = FakeSite::start(Behavior::Status(503)).await;
    let monitor = http_monitor(
        "blog",
        &site.url(),
        "interval = \"1s\"\nfailures_before_down = 1\nsuccesses_before_up = 1\n",
    );
    let app = start(&monitor, &receiver, &smtp).await;
    let id = app
        .open_incident(json!({"name": "Blog is slow", "status": "investigating", "body": "Looking.", "components": {"blog": "major_outage"}}))
        .await;
    // No monitor affected: never "recovered".
    app.open_incident(
        json!({"name": "Comment mails late", "status": "investigating", "body": "Queued."}),
    )
    .await;
    tick_and_deliver(&app, Duration::from_secs(1)).await;
    site.set(Behavior::Ok("fine".into()));
    tick_and_deliver(&app, Duration::from_secs(1)).await;

    tick_and_deliver(&app, 14 * MINUTE).await;
    assert_eq!(reminders(&receiver, "/hooks"), Vec::<Value>::new());
    tick_and_deliver(&app, MINUTE).await;
    let sent = reminders(&receiver, "/hooks");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["kind"], "recovered_but_open");
    assert_eq!(sent[0]["incident"]["id"], id.as_str());
    assert!(
        sent[0]["text"]
            .as_str()
            .expect("text")
            .contains("has been up for 15 min"),
        "{}",
        sent[0]
    );
    let mails = smtp.wait_for(OWNER, 1).await;
    let mail = mails
        .iter()
        .find(|m| m.subject().starts_with("Reminder:"))
        .expect("the owner's reminder mail");
    assert_eq!(mail.subject(), "Reminder: \"Blog is slow\" is still open");
    assert!(
        mail.text().contains("resolve it if it is over"),
        "{}",
        mail.text()
    );

    // Once per incident, across a restart too.
    let app = app.restart().await;
    tick_and_deliver(&app, 30 * MINUTE).await;
    assert_eq!(reminders(&receiver, "/hooks").len(), 1);
    only_the_owner_was_reminded(&app, &receiver, &smtp).await;
}

#[test]
fn reminder_settings_that_are_zero_unreadable_or_unknown_are_reported_at_their_place() {
    let text = r#"[page]
title = "x"

[reminders]
incident_without_update = "0s"
recovered_but_open = "-15m"
remind_every = "1h"
"#;
    let lines = problems(text);
    let expected = [
        "config.toml:5:27: incident_without_update must be longer than 0s; write e.g. \"1h\", or leave the key out",
        "config.toml:6:22: recovered_but_open: \"-15m\" does not start with a whole number",
        "config.toml:7:1: unknown key \"remind_every\" in [reminders]",
    ];
    assert_eq!(lines.len(), expected.len(), "{lines:#?}");
    for (line, start) in lines.iter().zip(expected) {
        assert!(line.starts_with(start), "{line}");
    }
    assert!(lines[2].contains("incident_without_update, recovered_but_open"));
}
