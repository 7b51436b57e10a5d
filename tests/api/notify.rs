//! Notifications end to end, against real receivers on 127.0.0.1: the owner hears first,
//! subscribers hear what they chose, a failing channel is retried with the same id and holds
//! up no other, and nothing is lost across a restart.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use signalfire::domain::check::CheckResult;

use crate::browser::Browser;
use crate::helpers::{ADMIN_PASSWORD, Behavior, FakeSite, TestApp, http_monitor, spawn_app};
use crate::receivers::{Receiver, Reply, SmtpSink};

pub const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";
/// The example secret of the Standard Webhooks specification.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub fn channel(id: &str, kind: &str, extra: &str) -> String {
    format!("[[notify]]\nid = \"{id}\"\nkind = \"{kind}\"\n{extra}\n")
}

/// Checks a webhook's signature with the reference implementation.
fn verify(request: &crate::receivers::Request) {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &request.headers {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    standardwebhooks::Webhook::new(SECRET)
        .expect("secret")
        .verify(&request.body, &headers)
        .expect("a valid Standard Webhooks signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_fails_twice_gets_each_update_once_with_one_id_and_valid_signatures() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    receiver.script(&[Reply::Status(500), Reply::Status(500)]);
    let app = spawn_app(&format!(
        "{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        channel(
            "hooks",
            "webhook",
            &format!(
                "url = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"incident\"]",
                receiver.url("/incoming-7f3a")
            ),
        )
    ))
    .await;
    let id = app
        .open_incident(json!({"name": "Galleries slow", "body": "Looking.", "components": {"blog": "degraded_performance"}}))
        .await;
    assert_eq!(app.deliver().await, 1);
    app.clock.advance(Duration::from_secs(9));
    assert_eq!(app.deliver().await, 0, "not before its 10 s backoff");
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(app.deliver().await, 1);
    app.clock.advance(Duration::from_secs(20));
    assert_eq!(app.deliver().await, 1);
    let attempts = receiver.to("/incoming-7f3a");
    assert_eq!(attempts.len(), 3);
    let ids: Vec<&str> = attempts
        .iter()
        .map(|r| r.header("webhook-id").expect("id"))
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "one id on every attempt: {ids:?}"
    );
    assert!(ids[0].starts_with("msg_"));
    for request in &attempts {
        verify(request);
        let body = request.json();
        assert_eq!(body["incident"]["id"], id.as_str());
        assert_eq!(body["incident"]["name"], "Galleries slow");
        assert!(body["page"]["status_indicator"].is_string());
    }

    let response = app.post_update(&id, "resolved", "Fixed.").await;
    assert_eq!(response.status(), 201);
    assert_eq!(app.deliver().await, 1);
    let all = receiver.to("/incoming-7f3a");
    assert_eq!(all.len(), 4);
    verify(&all[3]);
    assert_ne!(
        all[3].header("webhook-id"),
        Some(ids[0]),
        "a new update, a new id"
    );
    assert_eq!(all[3].json()["incident"]["status"], "resolved");

    // The attempts, over the API…
    let deliveries = app
        .admin("GET", "/api/admin/deliveries?state=delivered", None)
        .await;
    assert_eq!(deliveries.status(), 200);
    let deliveries: serde_json::Value = deliveries.json().await.expect("json");
    let list = deliveries["deliveries"].as_array().expect("deliveries");
    assert_eq!(list.len(), 2);
    let first = list
        .iter()
        .find(|d| d["id"] == ids[0])
        .expect("the first delivery");
    assert_eq!(first["attempts"], 3);
    assert_eq!(first["channel"], "hooks");
    let log: Vec<(Option<&str>, Option<&str>)> = first["attempt_log"]
        .as_array()
        .expect("log")
        .iter()
        .map(|a| (a["status"].as_str(), a["error"].as_str()))
        .collect();
    assert_eq!(
        log,
        vec![
            (None, Some("HTTP 500 Internal Server Error")),
            (None, Some("HTTP 500 Internal Server Error")),
            (Some("HTTP 200 OK"), None),
        ]
    );
    let bad = app
        .admin("GET", "/api/admin/deliveries?state=lost", None)
        .await;
    assert_eq!(bad.status(), 400);
    // …and in /admin.
    let mut browser = Browser::new(&app);
    browser.login(ADMIN_PASSWORD).await;
    let page = browser.get("/admin/notifications").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("HTTP 500 Internal Server Error"),
        "the failed attempts are shown"
    );
    assert!(page.body.contains("HTTP 200 OK"));
    assert!(page.body.contains("127.0.0.1"), "the channel's host");
    assert!(
        !page.body.contains("incoming-7f3a") && !page.body.contains(SECRET),
        "never its path or secret"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_across_a_restart_tells_the_owner_down_and_then_up_again() {
    let smtp = SmtpSink::start().await;
    let site = FakeSite::start(Behavior::Status(503)).await;
    let app = spawn_app(&format!(
        "{}{}{}",
        smtp.config(),
        http_monitor(
            "blog",
            &site.url(),
            "interval = \"1s\"\nfailures_before_down = 2\nsuccesses_before_up = 1\n"
        ),
        channel(
            "owner-mail",
            "email",
            "to = [\"owner@test.example\"]\nevents = [\"monitor\"]"
        ),
    ))
    .await;
    app.tick(Duration::from_secs(1)).await;
    app.tick(Duration::from_secs(1)).await;
    // Stopped before the "down" mail went out; the site recovers meanwhile.
    let app = app.restart().await;
    site.set(Behavior::Ok("back".into()));
    app.tick(Duration::from_secs(1)).await;
    app.deliver().await;
    let mails = smtp.wait_for("owner@test.example", 2).await;
    let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    assert_eq!(subjects, vec!["blog site is down", "blog site is up again"]);
    let down = mails[0].text();
    assert!(
        down.contains("HTTP 503 Service Unavailable"),
        "with the reason: {down}"
    );
    assert!(down.contains(&site.url()), "and the failing check: {down}");
    assert!(
        mails[1].text().contains("up again after"),
        "{}",
        mails[1].text()
    );
    assert_eq!(
        mails[0].header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        mails[0].from, "status@test.example",
        "the envelope sender is [smtp] from"
    );
}

/// Posts an urlencoded form.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(String, String)],
) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).expect("form"))
        .send()
        .await
        .expect("post")
}

pub fn field(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// Signs `address` up through the form; returns the confirmation mail's link.
pub async fn sign_up(app: &TestApp, smtp: &SmtpSink, address: &str, components: &[&str]) -> String {
    let mut fields = vec![field("email", address)];
    for c in components {
        fields.push(field(&format!("component.{c}"), "on"));
    }
    let response = post_form(app, "/subscribe", &fields).await;
    assert_eq!(response.status(), 200);
    app.deliver().await;
    let mails = smtp.wait_for(address, 1).await;
    let text = mails.last().expect("confirmation").text();
    text.lines()
        .find_map(|l| l.strip_prefix("Confirm: "))
        .expect("a confirmation link")
        .trim()
        .to_string()
}

/// Presses the button of the page a confirmation link opens: the POST that confirms (a GET of
/// the link only shows the button). `link` is the mail's link or its path.
pub async fn confirm(app: &TestApp, link: &str) -> reqwest::Response {
    let path = link
        .split_once("/subscribe")
        .map(|(_, p)| format!("/subscribe{p}"))
        .expect("path");
    post_form(app, &path, &[]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_confirm_first_hear_only_what_they_follow_and_unsubscribe_in_one_click() {
    let smtp = SmtpSink::start().await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}{}",
        smtp.config(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        http_monitor("shop", "http://127.0.0.1:9/", NEVER),
    ))
    .await;
    let client = "client@test.example";
    let link = sign_up(&app, &smtp, client, &["blog"]).await;
    assert!(
        link.starts_with(&format!(
            "{}/subscribe/confirm?token=",
            app.state
                .config
                .server
                .base_url
                .as_str()
                .trim_end_matches('/')
        )),
        "{link}"
    );

    app.open_incident(json!({"name": "Before confirming", "components": {"blog": "major_outage"}}))
        .await;
    app.deliver().await;
    assert_eq!(smtp.to(client).len(), 1, "nothing before the confirmation");

    let path = link
        .split_once("/subscribe")
        .map(|(_, p)| format!("/subscribe{p}"))
        .expect("path");
    let confirmed = confirm(&app, &path).await;
    assert_eq!(confirmed.status(), 200);
    assert!(
        confirmed
            .text()
            .await
            .expect("page")
            .contains("Subscription confirmed")
    );

    let blog = app
        .open_incident(json!({"name": "Blog comments broken", "body": "Mail delivery stopped.", "components": {"blog": "partial_outage"}}))
        .await;
    app.open_incident(
        json!({"name": "Shop checkout slow", "components": {"shop": "degraded_performance"}}),
    )
    .await;
    app.post_update(&blog, "identified", "The new host blocks port 25.")
        .await;
    app.deliver().await;
    let mails = smtp.wait_for(client, 3).await;
    let updates = &mails[1..];
    let subjects: Vec<String> = updates.iter().map(|m| m.subject()).collect();
    assert_eq!(
        subjects,
        vec![
            "[Investigating] Blog comments broken",
            "[Identified] Blog comments broken"
        ],
        "only the component they follow"
    );
    for mail in updates {
        let unsubscribe = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
        assert!(
            unsubscribe.starts_with('<') && unsubscribe.contains("/unsubscribe?token="),
            "{unsubscribe}"
        );
        assert_eq!(
            mail.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        assert_eq!(
            mail.header("Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        assert!(
            mail.text().contains("/subscribe/manage?token="),
            "a manage link"
        );
        let thread = format!("<incident-{blog}@127.0.0.1>");
        assert_eq!(mail.header("References").as_deref(), Some(thread.as_str()));
        assert_eq!(mail.header("In-Reply-To").as_deref(), Some(thread.as_str()));
        assert!(
            mail.header("Message-ID")
                .is_some_and(|id| id.starts_with("<msg_"))
        );
    }
    assert!(updates[1].text().contains("port 25"));

    // RFC 8058: a POST to the URL, no cookie, no form token.
    let unsubscribe = updates[1].header("List-Unsubscribe").expect("header");
    let url = unsubscribe.trim_matches(['<', '>']);
    let path = url
        .split_once("/unsubscribe")
        .map(|(_, p)| format!("/unsubscribe{p}"))
        .expect("path");
    let done = reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one click");
    assert_eq!(done.status(), 200);
    let again = reqwest::Client::new()
        .post(format!("{}{path}", app.address))
        .send()
        .await
        .expect("again");
    assert_eq!(again.status(), 200, "idempotent");
    assert!(
        again
            .text()
            .await
            .expect("page")
            .contains("Nothing to unsubscribe"),
        "and honest about it"
    );
    assert_ne!(
        updates[0].header("List-Unsubscribe"),
        updates[1].header("List-Unsubscribe"),
        "every mail carries a link of its own"
    );
    app.post_update(&blog, "resolved", "Fixed.").await;
    app.deliver().await;
    assert_eq!(smtp.to(client).len(), 3, "nothing after unsubscribing");
    let subscribers = app.admin("GET", "/api/admin/subscribers", None).await;
    let subscribers: serde_json::Value = subscribers.json().await.expect("json");
    assert_eq!(subscribers["subscribers"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_answer_whatever_the_address_and_bad_ones_are_named() {
    let smtp = SmtpSink::start().await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}",
        smtp.config(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    ))
    .await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = post_form(
            &app,
            "/subscribe",
            &[field("email", "someone@test.example")],
        )
        .await;
        answers.push((response.status(), response.text().await.expect("page")));
    }
    assert_eq!(answers[0], answers[1], "new or known: the same page");
    let bad = post_form(&app, "/subscribe", &[field("email", "not an address")]).await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .await
            .expect("page")
            .contains("email: this is not an e-mail address")
    );
    let page = app.get("/").await.text().await.expect("page");
    assert!(
        page.contains("/subscribe\">Get updates by e-mail"),
        "every page links it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_channels_post_their_services_documented_shapes() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let token_env = "SIGNALFIRE_NOTIFY_TOOT_TOKEN";
    let app = spawn_app_with_env(
        &[
            http_monitor("blog", "http://127.0.0.1:9/", NEVER),
            channel(
                "slack",
                "slack",
                &format!("url = \"{}\"", receiver.url("/slack")),
            ),
            channel(
                "discord",
                "discord",
                &format!("url = \"{}\"", receiver.url("/discord")),
            ),
            channel(
                "ntfy",
                "ntfy",
                &format!("url = \"{}\"", receiver.url("/status-topic")),
            ),
            channel(
                "toot",
                "mastodon",
                &format!("url = \"{}\"", receiver.url("/")),
            ),
        ]
        .concat(),
        &[(token_env, "mastodon-access-token")],
    )
    .await;
    let id = app
        .open_incident(json!({"name": "Proof galleries down", "status": "investigating", "impact": "critical", "body": "The image host is <down> & *out*.", "components": {"blog": "major_outage"}}))
        .await;
    app.deliver().await;
    let page = format!("/incidents/{id}");

    let slack = receiver.wait_for("/slack", 1).await[0].json();
    assert!(
        slack["text"]
            .as_str()
            .expect("text")
            .contains("[Investigating] Proof galleries down")
    );
    assert_eq!(slack["blocks"][0]["type"], "section");
    assert_eq!(slack["blocks"][0]["text"]["type"], "mrkdwn");
    let section = slack["blocks"][0]["text"]["text"].as_str().expect("mrkdwn");
    assert!(
        section.starts_with("*[Investigating] Proof galleries down*\n"),
        "{section}"
    );
    assert!(
        section.contains("&lt;down&gt; &amp;"),
        "escaped for mrkdwn: {section}"
    );
    assert_eq!(slack["blocks"][1]["type"], "context");
    assert!(
        slack["blocks"][1]["elements"][0]["text"]
            .as_str()
            .expect("link")
            .contains(&page)
    );

    let discord = receiver.wait_for("/discord", 1).await[0].json();
    let embed = &discord["embeds"][0];
    assert_eq!(embed["title"], "[Investigating] Proof galleries down");
    assert!(
        embed["description"]
            .as_str()
            .expect("description")
            .contains("The image host")
    );
    assert!(embed["url"].as_str().expect("url").contains(&page));
    assert_eq!(embed["color"], 0xC5_3030, "critical is red");
    assert!(
        embed["timestamp"]
            .as_str()
            .expect("timestamp")
            .ends_with('Z')
    );
    assert_eq!(discord["allowed_mentions"], json!({"parse": []}));

    let ntfy = &receiver.wait_for("/status-topic", 1).await[0];
    assert_eq!(ntfy.method, "POST");
    assert_eq!(
        ntfy.header("Title"),
        Some("[Investigating] Proof galleries down")
    );
    assert_eq!(ntfy.header("Priority"), Some("5"), "critical is urgent");
    assert_eq!(ntfy.header("Tags"), Some("rotating_light"));
    assert!(ntfy.header("Click").expect("click").contains(&page));
    assert!(String::from_utf8_lossy(&ntfy.body).contains("The image host"));

    let toot = &receiver.wait_for("/api/v1/statuses", 1).await[0];
    assert_eq!(
        toot.header("Authorization"),
        Some("Bearer mastodon-access-token")
    );
    assert!(
        toot.header("Idempotency-Key")
            .is_some_and(|k| k.starts_with("msg_"))
    );
    let status = toot.json();
    assert_eq!(status["visibility"], "public");
    let text = status["status"].as_str().expect("status");
    assert!(
        text.starts_with("[Investigating] Proof galleries down\n\n") && text.contains(&page),
        "{text}"
    );
    assert!(text.chars().count() <= 500);

    // Mastodon hears incidents and maintenance only: a monitor alert is not posted, and on the
    // owner's incident the poller writes no update of its own.
    let down = CheckResult::down(
        app.clock.now(),
        Duration::from_millis(5),
        "HTTP 500 Internal Server Error",
    );
    app.apply_times(&down, 3).await;
    app.deliver().await;
    assert_eq!(
        receiver.to("/api/v1/statuses").len(),
        1,
        "neither the monitor alert nor a machine note on the owner's incident"
    );
    assert_eq!(
        receiver.to("/slack").len(),
        2,
        "slack heard the owner's incident and the monitor alert"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_and_a_failing_webhook_delay_no_other_channel() {
    let smtp = SmtpSink::start().await;
    let hanging = Receiver::start(Reply::Hang).await;
    let failing = Receiver::start(Reply::Status(500)).await;
    let app = spawn_app(&format!(
        "{}{}{}{}{}",
        smtp.config(),
        http_monitor(
            "blog",
            "http://127.0.0.1:9/",
            &format!("{NEVER}failures_before_down = 1\n")
        ),
        channel(
            "hangs",
            "webhook",
            &format!("url = \"{}\"", hanging.url("/hook"))
        ),
        channel(
            "fails",
            "webhook",
            &format!("url = \"{}\"", failing.url("/hook"))
        ),
        channel("owner-mail", "email", "to = [\"owner@test.example\"]"),
    ))
    .await;
    let down = CheckResult::down(
        app.clock.now(),
        Duration::from_millis(5),
        "HTTP 502 Bad Gateway",
    );
    app.apply_times(&down, 1).await;
    let notifier = app.state.notifier.clone();
    let sending = tokio::spawn(async move { notifier.deliver_due().await });
    let mails = smtp
        .wait_for_within("owner@test.example", 1, Duration::from_secs(2))
        .await;
    assert!(mails[0].text().contains("HTTP 502 Bad Gateway"));
    assert_eq!(app.get("/").await.status(), 200, "the page keeps answering");
    hanging.wait_for("/hook", 1).await;
    failing.wait_for("/hook", 1).await;
    sending.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliver_notifications_false_tells_nobody() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let app = spawn_app(&format!(
        "{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        channel(
            "hooks",
            "webhook",
            &format!("url = \"{}\"", receiver.url("/hook"))
        ),
    ))
    .await;
    let id = app
        .open_incident(json!({"name": "Quiet fix", "deliver_notifications": false, "components": {"blog": "partial_outage"}}))
        .await;
    let update = app
        .admin(
            "POST",
            &format!("/api/admin/incidents/{id}/updates"),
            Some(json!({"status": "resolved", "body": "Done.", "deliver_notifications": false})),
        )
        .await;
    assert_eq!(update.status(), 201);
    let now = app.clock.now();
    let maintenance = app
        .admin(
            "POST",
            "/api/admin/maintenances",
            Some(json!({"name": "Quiet work", "scheduled_for": (now + chrono::Duration::hours(1)).to_rfc3339(), "scheduled_until": (now + chrono::Duration::hours(2)).to_rfc3339(), "deliver_notifications": false})),
        )
        .await;
    assert_eq!(maintenance.status(), 201);
    assert_eq!(app.deliver().await, 0);
    assert!(receiver.requests().is_empty());
    app.post_update(&id, "postmortem", "Written up.").await;
    assert_eq!(app.deliver().await, 1, "the next update is told again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_message_goes_to_one_channel_only() {
    let receiver = Receiver::start(Reply::Status(204)).await;
    let app = spawn_app(&format!(
        "{}{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        channel(
            "one",
            "webhook",
            &format!("url = \"{}\"", receiver.url("/one"))
        ),
        channel(
            "two",
            "webhook",
            &format!("url = \"{}\"", receiver.url("/two"))
        ),
    ))
    .await;
    let response = app.admin("POST", "/api/admin/notify/two/test", None).await;
    assert_eq!(response.status(), 202);
    assert_eq!(
        app.admin("POST", "/api/admin/notify/three/test", None)
            .await
            .status(),
        404
    );
    app.deliver().await;
    let requests: HashMap<String, usize> =
        receiver.requests().iter().fold(HashMap::new(), |mut m, r| {
            *m.entry(r.path.clone()).or_default() += 1;
            m
        });
    assert_eq!(requests, HashMap::from([("/two".to_string(), 1)]));
    assert_eq!(receiver.to("/two")[0].json()["test"]["channel"], "two");
}

/// [`spawn_app`] with extra environment variables for the config.
async fn spawn_app_with_env(extra: &str, env: &[(&str, &str)]) -> TestApp {
    crate::helpers::spawn_app_env(extra, env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owners_form_can_post_quietly() {
    let receiver = Receiver::start(Reply::Status(200)).await;
    let app = spawn_app(&format!(
        "{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        channel(
            "hooks",
            "webhook",
            &format!("url = \"{}\"", receiver.url("/hook"))
        ),
    ))
    .await;
    let mut owner = Browser::new(&app);
    owner.login(ADMIN_PASSWORD).await;
    let form = owner.get("/admin/incidents/new").await;
    assert!(form.body.contains("name=\"quiet\""), "the form offers it");
    let csrf = crate::browser::csrf(&form.body);
    let quiet = owner
        .post(
            "/admin/incidents/new",
            &[
                ("csrf", &csrf),
                ("name", "Quiet one"),
                ("status", "investigating"),
                ("body", "Nobody hears this."),
                ("quiet", "on"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(quiet.status, 303);
    assert_eq!(app.deliver().await, 0);
    let loud = owner
        .post(
            "/admin/incidents/new",
            &[
                ("csrf", &csrf),
                ("name", "Loud one"),
                ("status", "investigating"),
                ("body", "Everyone hears this."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(loud.status, 303);
    assert_eq!(app.deliver().await, 1);
    assert_eq!(
        receiver.to("/hook")[0].json()["incident"]["name"],
        "Loud one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_changes_what_they_follow_from_the_manage_link() {
    let smtp = SmtpSink::start().await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}{}",
        smtp.config(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        http_monitor("shop", "http://127.0.0.1:9/", NEVER),
    ))
    .await;
    let client = "follower@test.example";
    let link = sign_up(&app, &smtp, client, &["blog"]).await;
    let path = link
        .split_once("/subscribe")
        .map(|(_, p)| format!("/subscribe{p}"))
        .expect("path");
    let confirmed = confirm(&app, &path).await.text().await.expect("page");
    let manage = confirmed
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/subscribe/manage?token="))
        .expect("a manage link on the confirmation page")
        .to_string();
    let page = app.get(&manage).await.text().await.expect("manage page");
    assert!(page.contains(client));
    let saved = post_form(
        &app,
        &manage,
        &[field("component.shop", "on"), field("action", "save")],
    )
    .await;
    assert_eq!(saved.status(), 200);
    app.open_incident(json!({"name": "Blog news", "components": {"blog": "partial_outage"}}))
        .await;
    app.open_incident(json!({"name": "Shop news", "components": {"shop": "partial_outage"}}))
        .await;
    app.deliver().await;
    let mails = smtp.wait_for(client, 2).await;
    assert_eq!(
        mails[1].subject(),
        "[Investigating] Shop news",
        "now only the shop"
    );
    assert_eq!(smtp.to(client).len(), 2);
    let gone = post_form(&app, &manage, &[field("action", "unsubscribe")]).await;
    assert_eq!(gone.status(), 200);
    assert_eq!(
        app.get(&manage).await.status(),
        404,
        "the link ends with the subscription"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_hears_when_the_checker_goes_offline_and_comes_back() {
    let smtp = SmtpSink::start().await;
    let guard = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("guard");
    let guard_port = guard.local_addr().expect("addr").port();
    drop(guard);
    let site = FakeSite::start(Behavior::Status(503)).await;
    let app = spawn_app(&format!(
        "[connectivity]\ncheck = \"tcp://127.0.0.1:{guard_port}\"\n\n{}{}{}",
        smtp.config(),
        http_monitor(
            "blog",
            &site.url(),
            "interval = \"1s\"\nfailures_before_down = 1\n"
        ),
        channel("owner-mail", "email", "to = [\"owner@test.example\"]"),
    ))
    .await;
    app.tick(Duration::from_secs(1)).await;
    let _guard_back = tokio::net::TcpListener::bind(("127.0.0.1", guard_port))
        .await
        .expect("the guard answers again");
    site.set(Behavior::Ok("fine".into()));
    // The guard's answer is reused for 5 s; two answers in a row (5 s apart) end the episode.
    app.tick(Duration::from_secs(6)).await;
    app.tick(Duration::from_secs(6)).await;
    app.deliver().await;
    let mails = smtp.wait_for("owner@test.example", 2).await;
    let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    assert_eq!(
        subjects,
        vec![
            "The status checker is offline",
            "The status checker is online again"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_deliveries_are_pruned_with_the_retention_job_and_pending_ones_kept() {
    let working = Receiver::start(Reply::Status(200)).await;
    let down = Receiver::start(Reply::Status(503)).await;
    let app = spawn_app(&format!(
        "{}{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        channel(
            "works",
            "webhook",
            &format!("url = \"{}\"", working.url("/hook"))
        ),
        channel(
            "broken",
            "webhook",
            &format!("url = \"{}\"", down.url("/hook"))
        ),
    ))
    .await;
    app.open_incident(json!({"name": "Something", "components": {"blog": "partial_outage"}}))
        .await;
    assert_eq!(app.deliver().await, 2);
    let later = app.clock.now() + chrono::Duration::days(31);
    let report = app
        .state
        .scheduler
        .housekeeping()
        .apply_retention(later)
        .await
        .expect("retention");
    assert_eq!(
        report.deliveries_deleted, 1,
        "the delivered one, not the pending one"
    );
    let left = app.admin("GET", "/api/admin/deliveries", None).await;
    let left: serde_json::Value = left.json().await.expect("json");
    let states: Vec<&str> = left["deliveries"]
        .as_array()
        .expect("deliveries")
        .iter()
        .map(|d| d["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, vec!["pending"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_sign_ups_and_year_old_links_are_forgotten() {
    let smtp = SmtpSink::start().await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}",
        smtp.config(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    ))
    .await;
    sign_up(&app, &smtp, "never-confirms@test.example", &["blog"]).await;
    let link = sign_up(&app, &smtp, "reader@test.example", &["blog"]).await;
    let path = link
        .split_once("/subscribe")
        .map(|(_, p)| format!("/subscribe{p}"))
        .expect("path");
    assert_eq!(confirm(&app, &path).await.status(), 200);
    app.open_incident(json!({"name": "Blog down", "components": {"blog": "major_outage"}}))
        .await;
    app.deliver().await;
    let mails = smtp.wait_for("reader@test.example", 2).await;
    let unsubscribe = mails[1].header("List-Unsubscribe").expect("header");
    let unsubscribe = unsubscribe
        .trim_matches(['<', '>'])
        .split_once("/unsubscribe")
        .map(|(_, p)| format!("/unsubscribe{p}"))
        .expect("path");

    let housekeeping = app.state.scheduler.housekeeping();
    let report = housekeeping
        .apply_retention(app.clock.now() + chrono::Duration::hours(49))
        .await
        .expect("retention");
    assert_eq!(report.unconfirmed_deleted, 1);
    let list = app.admin("GET", "/api/admin/subscribers", None).await;
    let list: serde_json::Value = list.json().await.expect("json");
    let emails: Vec<&str> = list["subscribers"]
        .as_array()
        .expect("subscribers")
        .iter()
        .map(|s| s["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails, vec!["reader@test.example"], "the address is gone");

    let report = housekeeping
        .apply_retention(app.clock.now() + chrono::Duration::days(401))
        .await
        .expect("retention");
    assert!(report.links_deleted >= 2, "{report:?}");
    let old = reqwest::Client::new()
        .post(format!("{}{unsubscribe}", app.address))
        .send()
        .await
        .expect("old link");
    assert_eq!(old.status(), 200);
    assert!(
        old.text()
            .await
            .expect("page")
            .contains("Nothing to unsubscribe")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_that_redirects_is_not_followed_and_fails() {
    let receiver = Receiver::start(Reply::Redirect("/elsewhere")).await;
    let app = spawn_app(&format!(
        "{}{}",
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        channel(
            "hooks",
            "webhook",
            &format!("url = \"{}\"", receiver.url("/hook"))
        ),
    ))
    .await;
    app.open_incident(json!({"name": "Something", "components": {"blog": "partial_outage"}}))
        .await;
    assert_eq!(app.deliver().await, 1);
    assert_eq!(receiver.to("/hook").len(), 1);
    assert!(receiver.to("/elsewhere").is_empty(), "not followed");
    let list = app.admin("GET", "/api/admin/deliveries", None).await;
    let list: serde_json::Value = list.json().await.expect("json");
    let delivery = &list["deliveries"][0];
    assert_eq!(delivery["state"], "pending", "{delivery}");
    assert!(
        delivery["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("307")),
        "{delivery}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_site_that_answers_again_but_slowly_is_reported_degraded() {
    let smtp = SmtpSink::start().await;
    let site = FakeSite::start(Behavior::Status(503)).await;
    let app = spawn_app(&format!(
        "{}{}{}",
        smtp.config(),
        http_monitor(
            "blog",
            &site.url(),
            "interval = \"1s\"\nfailures_before_down = 1\nsuccesses_before_up = 1\ndegraded_after = \"5ms\"\n"
        ),
        channel(
            "owner-mail",
            "email",
            "to = [\"owner@test.example\"]\nevents = [\"monitor\"]"
        ),
    ))
    .await;
    app.tick(Duration::from_secs(1)).await;
    site.set(Behavior::Slow(Duration::from_millis(50), "slow".into()));
    app.tick(Duration::from_secs(1)).await;
    app.deliver().await;
    let mails = smtp.wait_for("owner@test.example", 2).await;
    let subjects: Vec<String> = mails.iter().map(|m| m.subject()).collect();
    assert_eq!(
        subjects,
        vec![
            "blog site is down",
            "blog site is responding again, but degraded"
        ]
    );
    assert!(
        mails[1].text().contains("slow: answered in"),
        "{}",
        mails[1].text()
    );
}

/// SPEC §11: a mail and a webhook about a maintenance say its window, in the page zone and
/// in UTC (text for people; the webhook also as times with their offsets).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_maintenance_mail_and_webhook_say_the_window_in_the_page_zone_and_utc() {
    let smtp = SmtpSink::start().await;
    let receiver = Receiver::start(Reply::Status(200)).await;
    let app = crate::helpers::spawn_app_in_zone(
        "Europe/Berlin",
        &format!(
            "{}{}{}{}",
            smtp.config(),
            http_monitor("blog", "http://127.0.0.1:9/", NEVER),
            channel("owner-mail", "email", "to = [\"owner@test.example\"]"),
            channel(
                "hooks",
                "webhook",
                &format!("url = \"{}\"", receiver.url("/hook"))
            ),
        ),
    )
    .await;
    let day = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    let from = day.and_hms_opt(10, 0, 0).expect("time").and_utc();
    let until = from + chrono::Duration::minutes(90);
    app.schedule_maintenance(from, until, &["blog"]).await;
    app.deliver().await;
    let words = crate::feeds::berlin_window_words(from, until);
    let mail = smtp.wait_for("owner@test.example", 1).await[0].text();
    assert!(mail.contains(&words), "{mail:?} says {words:?}");
    let hook = receiver.wait_for("/hook", 1).await[0].json();
    let window = &hook["maintenance_window"];
    assert_eq!(window["description"], words.as_str(), "{hook}");
    assert_eq!(window["timezone"], "Europe/Berlin");
    assert_eq!(
        window["scheduled_for"],
        from.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    let local = from.with_timezone(&chrono_tz::Europe::Berlin);
    assert_eq!(
        window["scheduled_for_local"],
        local.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    );
}
