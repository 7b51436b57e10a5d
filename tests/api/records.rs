//! Records that stay true (SPEC §11): ids are never given twice, deletes ask first, and no
//! GET or HEAD changes anything.

use serde_json::{Value, json};

use crate::browser::{Browser, csrf, texts};
use crate::helpers::{ADMIN_PASSWORD, TestApp, http_monitor, spawn_app, spawn_app_server};
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

/// Rows in every table, by table: what a request wrote, if anything.
async fn row_counts(app: &TestApp) -> Vec<(String, i64)> {
    app.state
        .db
        .read(|c| {
            let tables: Vec<String> = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut counts = Vec::new();
            for table in tables {
                let n = c.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })?;
                counts.push((table, n));
            }
            Ok(counts)
        })
        .await
        .expect("counts")
}

async fn confirmed(app: &TestApp, email: &str) -> bool {
    let list = app.admin("GET", "/api/admin/subscribers", None).await;
    let list: Value = list.json().await.expect("json");
    list["subscribers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["email"] == email)
        .and_then(|s| s["confirmed"].as_bool())
        .unwrap_or_else(|| panic!("{email} in {list}"))
}

async fn request(app: &TestApp, method: reqwest::Method, path: &str) -> (u16, String) {
    let response = app
        .client
        .request(method, format!("{}{path}", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmation_link_opened_by_a_scanner_confirms_nothing_and_only_its_post_confirms_once()
{
    let smtp = SmtpSink::start().await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}",
        smtp.config(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    ))
    .await;
    let email = "reader@test.example";
    let link = sign_up(&app, &smtp, email, &[]).await;
    let path = link
        .split_once("/subscribe")
        .map(|(_, p)| format!("/subscribe{p}"))
        .expect("path");
    let before = row_counts(&app).await;

    // A mail scanner follows the link: a page with a button, and nothing written.
    for _ in 0..10 {
        let (status, page) = request(&app, reqwest::Method::GET, &path).await;
        assert_eq!(status, 200);
        let html = scraper::Html::parse_document(&page);
        let form = scraper::Selector::parse("form[method=post] button[type=submit]").expect("css");
        assert!(html.select(&form).next().is_some(), "a button: {page}");
        assert!(!page.contains("Subscription confirmed"), "{page}");
        let (status, _) = request(&app, reqwest::Method::HEAD, &path).await;
        assert_eq!(status, 200);
    }
    assert!(
        !confirmed(&app, email).await,
        "a GET or HEAD confirms nothing"
    );
    assert_eq!(
        row_counts(&app).await,
        before,
        "a GET or HEAD writes nothing"
    );

    // The person presses the button.
    let (status, page) = request(&app, reqwest::Method::POST, &path).await;
    assert_eq!(status, 200);
    assert!(page.contains("Subscription confirmed"), "{page}");
    assert!(confirmed(&app, email).await);
    let manage = |page: &str| {
        page.split("href=\"")
            .filter_map(|s| s.split('"').next())
            .find(|h| h.starts_with("/subscribe/manage?token="))
            .map(str::to_string)
    };
    let first_link = manage(&page).expect("a manage link");

    // A flood of the same link, by every method: not one row more.
    let after_first = row_counts(&app).await;
    for _ in 0..25 {
        let (status, page) = request(&app, reqwest::Method::POST, &path).await;
        assert_eq!(status, 200);
        assert_eq!(manage(&page).as_deref(), Some(first_link.as_str()));
        assert_eq!(request(&app, reqwest::Method::GET, &path).await.0, 200);
        assert_eq!(request(&app, reqwest::Method::HEAD, &path).await.0, 200);
    }
    let unknown = format!("/subscribe/confirm?token={}", "ab".repeat(32));
    assert_eq!(request(&app, reqwest::Method::POST, &unknown).await.0, 404);
    assert_eq!(request(&app, reqwest::Method::GET, &unknown).await.0, 404);
    assert_eq!(
        row_counts(&app).await,
        after_first,
        "the first confirmation wrote the last rows"
    );
    assert_eq!(
        request(&app, reqwest::Method::GET, &first_link).await.0,
        200,
        "the manage link works"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_incident_in_admin_asks_first_and_then_says_what_was_deleted() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let (id, _) = open(&app, "Checkout errors").await;
    let public = format!("/incidents/{id}");
    let confirm = format!("/admin/incidents/{id}/delete");
    let mut owner = Browser::new(&app);
    assert_eq!(owner.login(ADMIN_PASSWORD).await.status, 303);

    let detail = owner.get(&format!("/admin/incidents/{id}")).await;
    let html = scraper::Html::parse_document(&detail.body);
    let link = scraper::Selector::parse(&format!("a[href=\"{confirm}\"]")).expect("css");
    assert!(
        html.select(&link).next().is_some(),
        "a link to the confirm step"
    );
    let one_click = scraper::Selector::parse(&format!("form[action=\"{confirm}\"]")).expect("css");
    assert!(
        html.select(&one_click).next().is_none(),
        "no one-click delete"
    );

    let before = row_counts(&app).await;
    let asked = owner.get(&confirm).await;
    assert_eq!(asked.status, 200);
    assert!(asked.body.contains("Checkout errors"), "{}", asked.body);
    assert!(
        asked.body.contains("1 update"),
        "says what goes: {}",
        asked.body
    );
    let html = scraper::Html::parse_document(&asked.body);
    let button = scraper::Selector::parse(&format!(
        "form[method=post][action=\"{confirm}\"] button[type=submit]"
    ))
    .expect("css");
    assert!(html.select(&button).next().is_some(), "a confirm button");
    assert_eq!(owner.head(&confirm).await.status, 200);
    assert_eq!(row_counts(&app).await, before, "asking deletes nothing");
    assert_eq!(app.get(&public).await.status(), 200);

    let forged = owner.post(&confirm, &[("action", "delete")]).await;
    assert_eq!(forged.status, 403, "the confirming POST is CSRF-checked");
    assert_eq!(app.get(&public).await.status(), 200);

    let csrf = csrf(&asked.body);
    let done = owner.post(&confirm, &[("csrf", &csrf)]).await;
    assert_eq!(done.status, 200);
    let said = texts(&done.body, "[role=status]").join(" ");
    assert!(
        said.contains("deleted") && said.contains("Checkout errors"),
        "the owner is told what happened: {said}"
    );
    app.settle().await;
    assert_eq!(app.get(&public).await.status(), 404);
    assert_eq!(owner.post(&confirm, &[("csrf", &csrf)]).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_maintenance_in_admin_asks_first() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let id = maintenance(&app).await;
    let confirm = format!("/admin/maintenances/{id}/cancel");
    let mut owner = Browser::new(&app);
    assert_eq!(owner.login(ADMIN_PASSWORD).await.status, 303);
    let edit = owner.get(&format!("/admin/maintenances/{id}")).await;
    let html = scraper::Html::parse_document(&edit.body);
    let one_click = scraper::Selector::parse(&format!("form[action=\"{confirm}\"]")).expect("css");
    assert!(
        html.select(&one_click).next().is_none(),
        "no one-click cancel"
    );

    let before = row_counts(&app).await;
    let asked = owner.get(&confirm).await;
    assert_eq!(asked.status, 200);
    assert!(
        asked.body.contains("Order system upgrade"),
        "{}",
        asked.body
    );
    assert_eq!(row_counts(&app).await, before, "asking changes nothing");
    let done = owner.post(&confirm, &[("csrf", &csrf(&asked.body))]).await;
    assert_eq!(done.status, 200);
    let said = texts(&done.body, "[role=status]").join(" ");
    assert!(said.contains("cancelled"), "{said}");
    let status = app
        .state
        .db
        .read(move |c| Ok(signalfire::db::incidents::get(c, id)?.map(|m| m.status)))
        .await
        .expect("read");
    assert_eq!(
        status,
        Some(signalfire::domain::incident::Status::Completed),
        "cancelled"
    );
}

/// Posts the sign-up form as `client` (behind the trusted proxy on 127.0.0.1).
async fn sign_up_as(app: &TestApp, client: &str, email: &str) -> (u16, String) {
    let response = app
        .client
        .post(format!("{}/subscribe", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("X-Forwarded-For", client)
        .body(serde_urlencoded::to_string([("email", email)]).expect("form"))
        .send()
        .await
        .expect("sign-up");
    let status = response.status().as_u16();
    (status, response.text().await.expect("page"))
}

async fn subscriptions_app(smtp: &SmtpSink) -> TestApp {
    spawn_app_server(
        "trusted_proxies = [\"127.0.0.1\"]\n",
        &format!(
            "{}[subscribers]\nemail = true\n\n{}",
            smtp.config(),
            http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        ),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_spellings_of_one_mailbox_get_one_confirmation_mail_in_the_hour() {
    let smtp = SmtpSink::start().await;
    let app = subscriptions_app(&smtp).await;
    // Quotes, case, +tags, dots and the IDN domain written in Unicode or ASCII: one person,
    // typed in by a hundred different clients.
    for i in 0..100 {
        let email = match i % 5 {
            0 => format!("victim+{i}@xn--bcher-kva.example"),
            1 => format!("\"victim+{i}\"@bücher.example"),
            2 => format!("V.i.c.t.i.m+{i}@BÜCHER.example"),
            3 => format!("vic.tim+t{i}@Xn--Bcher-Kva.Example"),
            _ => format!("\"VICTIM+{i}\"@xn--bcher-kva.example"),
        };
        let (status, page) = sign_up_as(&app, &format!("192.0.2.{}", i + 1), &email).await;
        assert_eq!(status, 200, "{email}: {page}");
    }
    app.deliver().await;
    let mails: Vec<Vec<String>> = smtp.mails().into_iter().map(|m| m.to).collect();
    assert_eq!(
        mails.len(),
        1,
        "one confirmation mail in the hour: {mails:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_the_mailer_cannot_send_to_is_refused_at_sign_up_naming_the_field() {
    let smtp = SmtpSink::start().await;
    let app = subscriptions_app(&smtp).await;
    let (status, page) = sign_up_as(&app, "192.0.2.1", "jöhn@test.example").await;
    assert_eq!(status, 400, "{page}");
    let said = texts(&page, ".form-error").join(" ");
    assert!(
        said.starts_with("email:"),
        "the form says what is wrong: {said}"
    );
    let list: Value = app
        .admin("GET", "/api/admin/subscribers", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(list["subscribers"], json!([]), "nothing stored");
    app.deliver().await;
    assert!(smtp.mails().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recipient_the_mail_server_refuses_for_good_is_tried_once_and_marked_failed() {
    let smtp = SmtpSink::start().await;
    let app = subscriptions_app(&smtp).await;
    let gone = "gone@test.example";
    smtp.reject(gone);
    let (status, _) = sign_up_as(&app, "192.0.2.1", gone).await;
    assert_eq!(status, 200);
    app.deliver().await;
    for _ in 0..6 {
        app.clock.advance(std::time::Duration::from_secs(4 * 3600));
        app.deliver().await;
    }
    assert_eq!(smtp.tried(gone), 1, "a 5xx refusal is not retried");
    let failed: Value = app
        .admin("GET", "/api/admin/deliveries?state=failed", None)
        .await
        .json()
        .await
        .expect("json");
    let failed = failed["deliveries"].as_array().expect("deliveries");
    assert_eq!(failed.len(), 1, "{failed:?}");
    let pending: Value = app
        .admin("GET", "/api/admin/deliveries?state=pending", None)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(pending["deliveries"], json!([]));
}
