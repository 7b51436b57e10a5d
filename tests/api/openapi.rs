//! `/api/openapi.json`: it is served like the other public JSON, it is OpenAPI 3.1, every
//! operation it documents is served (with real ids, answering a status the document lists),
//! and every route of the route table is in it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Value, json};

use crate::browser::{Browser, csrf};
use crate::helpers::{ADMIN_PASSWORD, ADMIN_TOKEN, TestApp, http_monitor, spawn_app};
use crate::receivers::SmtpSink;

/// The document as written, and the route table it must cover.
const DOCUMENT: &str = include_str!("../../assets/openapi.json");
const ROUTE_TABLE: &str = include_str!("../../src/routes/mod.rs");

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";
const METHODS: [&str; 5] = ["get", "head", "post", "patch", "delete"];
/// The token of the seeded heartbeat monitor (the document's example).
const PING_TOKEN: &str = "nightly-backup-7f3a9c";
/// The seeded webhook channel (the document's example); nothing listens on port 9.
const CHANNEL: &str = "owner-hook";

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("assets/openapi.json is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_openapi_3_1_json_served_like_the_other_public_json() {
    let app = spawn_app("").await;

    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("cache-control"), "public, max-age=60");
    let etag = header("etag");
    assert!(etag.starts_with('"'), "a strong ETag: {etag:?}");
    let body = response.text().await.expect("body");
    assert_eq!(body, DOCUMENT, "the embedded file, unchanged");
    let doc: Value = serde_json::from_str(&body).expect("JSON");
    let version = doc["openapi"].as_str().expect("openapi");
    assert!(version.starts_with("3.1."), "OpenAPI 3.1.x, not {version}");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()));

    let again = app.get_if_none_match("/api/openapi.json", &etag).await;
    assert_eq!(again.status(), 304);
    let head = app
        .client
        .head(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .expect("request");
    assert_eq!(head.status(), 200);
    assert!(head.text().await.expect("body").is_empty());
}

#[test]
fn every_route_of_the_route_table_is_in_the_document_with_its_methods() {
    let documented = documented_operations(&document());
    let routes = registered_routes();
    assert!(routes.len() > 40, "the route table was read: {routes:?}");
    for (route, methods) in &routes {
        let covering: BTreeSet<&str> = documented
            .iter()
            .filter(|(path, _)| route_matches(route, path))
            .map(|(_, method)| method.as_str())
            .collect();
        assert!(
            !covering.is_empty(),
            "the route {route} is not in assets/openapi.json"
        );
        for method in methods {
            assert!(
                covering.contains(method),
                "{} {route} is not in assets/openapi.json",
                method.to_uppercase()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_with_a_status_the_document_lists() {
    let doc = document();
    let (app, _smtp, seed) = seeded_app().await;
    let mut browser = Browser::new(&app);
    let login = browser.login(ADMIN_PASSWORD).await;
    assert_eq!(login.status, 303, "the owner logs in");
    let form = browser.get("/admin/incidents/new").await;
    let csrf = csrf(&form.body);

    let mut operations = documented_operations(&doc);
    // What removes the seeded incident or subscriber runs last.
    operations.sort_by_key(|(path, method)| {
        method == "delete" || (path == "/unsubscribe" && method == "post")
    });
    for (path, method) in &operations {
        let operation = &doc["paths"][path][method];
        let url = seed.url(path, operation);
        let status = if path.starts_with("/admin") {
            let page = match method.as_str() {
                "get" => browser.get(&url).await,
                "head" => browser.head(&url).await,
                _ => browser.post(&url, &form_fields(path, &csrf)).await,
            };
            page.status
        } else {
            send(&app, method, &url, json_body(&doc, operation))
                .await
                .as_u16()
        };
        let label = format!("{} {url}", method.to_uppercase());
        assert_ne!(status, 404, "{label} is not served");
        assert!(
            operation["responses"].get(status.to_string()).is_some(),
            "{label} answered {status}, which the document does not list"
        );
    }
}

/// `(path, method)` of every operation in the document.
fn documented_operations(doc: &Value) -> Vec<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (path.clone(), m.to_string()))
        })
        .collect()
}

/// Every route of `src/routes/mod.rs` with its methods: each `.service(…)` names one path and
/// the methods it takes (`get_or_head` is GET and HEAD).
fn registered_routes() -> BTreeMap<String, BTreeSet<&'static str>> {
    let code: String = ROUTE_TABLE
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let configure = code
        .split("pub fn configure(")
        .nth(1)
        .expect("the route table's configure function");
    let mut routes = BTreeMap::new();
    for service in configure.split(".service(").skip(1) {
        let Some(path) = service
            .split('"')
            .skip(1)
            .step_by(2)
            .find(|s| s.starts_with('/'))
        else {
            continue;
        };
        let mut methods = BTreeSet::new();
        let takes = |needles: &[&str]| needles.iter().any(|n| service.contains(n));
        if takes(&["get_or_head("]) {
            methods.extend(["get", "head"]);
        }
        if takes(&[".get(", "web::get()"]) {
            methods.insert("get");
        }
        if takes(&["guard::Head()"]) {
            methods.insert("head");
        }
        for method in ["post", "patch", "delete"] {
            if takes(&[&format!(".{method}("), &format!("web::{method}()")]) {
                methods.insert(method);
            }
        }
        assert!(!methods.is_empty(), "no method found for {path}");
        routes.insert(path.to_string(), methods);
    }
    routes
}

/// True when a documented path is one the route pattern serves: `{x}` takes one segment (or
/// part of one), `{x:.*}` the rest of the path.
fn route_matches(route: &str, documented: &str) -> bool {
    let route: Vec<&str> = route.split('/').collect();
    let path: Vec<&str> = documented.split('/').collect();
    for (i, segment) in route.iter().enumerate() {
        if segment.starts_with('{') && segment.ends_with(":.*}") {
            return path.len() > i;
        }
        let Some(actual) = path.get(i) else {
            return false;
        };
        let is_param = segment.starts_with('{') && segment.ends_with('}');
        if !(is_param || segment == actual) {
            return false;
        }
    }
    route.len() == path.len()
}

/// Real ids and tokens from the seeded app.
struct Seed {
    incident: String,
    maintenance: String,
    subscriber: String,
    failed_delivery: String,
    confirm_token: String,
    manage_token: String,
}

impl Seed {
    /// The path with its parameters filled in, and its required query parameters.
    fn url(&self, path: &str, operation: &Value) -> String {
        let id = if path.starts_with("/components/") || path.starts_with("/badge/") {
            Some("blog")
        } else if path.starts_with("/admin/maintenances/")
            || path.starts_with("/api/admin/maintenances/")
        {
            Some(self.maintenance.as_str())
        } else if path.contains("incidents/") {
            Some(self.incident.as_str())
        } else if path.starts_with("/api/admin/subscribers/") {
            Some(self.subscriber.as_str())
        } else if path.contains("/deliveries/") {
            Some(self.failed_delivery.as_str())
        } else if path.starts_with("/api/admin/notify/")
            || path.starts_with("/admin/notifications/")
        {
            Some(CHANNEL)
        } else {
            None
        };
        let mut url = path
            .replace("{token}", PING_TOKEN)
            .replace("{signal}", "start")
            .replace("{name}", "style.css");
        if let Some(id) = id {
            url = url.replace("{id}", id);
        }
        assert!(!url.contains('{'), "the test has no value for {path}");
        let required_query = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["in"] == "query" && p["required"] == true);
        if required_query {
            let token = if path == "/subscribe/confirm" {
                &self.confirm_token
            } else {
                &self.manage_token
            };
            url.push_str(&format!("?token={token}"));
        }
        url
    }
}

/// An app with two monitors, a heartbeat, a webhook channel that fails, subscriptions, an
/// incident, a maintenance, a confirmed and an unconfirmed subscriber, and a failed delivery.
async fn seeded_app() -> (TestApp, SmtpSink, Seed) {
    let smtp = SmtpSink::start().await;
    let app = spawn_app(&format!(
        "{}[subscribers]\nemail = true\n\n{}{}\
         [[monitor]]\nid = \"nightly\"\nkind = \"heartbeat\"\ntoken = \"{PING_TOKEN}\"\ngrace = \"1h\"\n\n\
         [[notify]]\nid = \"{CHANNEL}\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n",
        smtp.config(),
        http_monitor("blog", "http://127.0.0.1:9/", NEVER),
        http_monitor("shop", "http://127.0.0.1:9/", NEVER),
    ))
    .await;
    let incident = app
        .open_incident(json!({"name": "Proof galleries load slowly", "components": {"blog": "degraded_performance"}}))
        .await;
    let now = chrono::Utc::now();
    let maintenance = app
        .schedule_maintenance(
            now + chrono::Duration::days(30),
            now + chrono::Duration::days(31),
            &["shop"],
        )
        .await;

    let confirmed = sign_up(&app, &smtp, "confirmed@test.example").await;
    let confirm_token = sign_up(&app, &smtp, "waiting@test.example").await;
    let page = crate::notify::confirm(&app, &format!("/subscribe/confirm?token={confirmed}")).await;
    assert_eq!(page.status(), 200);
    let manage_token = token_after(
        &page.text().await.expect("page"),
        "/subscribe/manage?token=",
    );
    let subscribers = app.admin("GET", "/api/admin/subscribers", None).await;
    let subscribers: Value = subscribers.json().await.expect("json");
    // Not the one the test unsubscribes with the manage token.
    let subscriber = subscribers["subscribers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["email"] == "waiting@test.example")
        .and_then(|s| s["id"].as_str())
        .expect("the unconfirmed subscriber")
        .to_string();

    // The channel's deliveries fail until they are given up, 24 hours on.
    let test = app
        .admin("POST", &format!("/api/admin/notify/{CHANNEL}/test"), None)
        .await;
    assert_eq!(test.status(), 202);
    app.deliver().await;
    app.clock.advance(Duration::from_secs(25 * 3600));
    app.deliver().await;
    let failed = app
        .admin("GET", "/api/admin/deliveries?state=failed", None)
        .await;
    let failed: Value = failed.json().await.expect("json");
    let failed_delivery = failed["deliveries"][0]["id"]
        .as_str()
        .expect("a failed delivery")
        .to_string();

    let seed = Seed {
        incident,
        maintenance,
        subscriber,
        failed_delivery,
        confirm_token,
        manage_token,
    };
    (app, smtp, seed)
}

/// Signs `address` up through the form; returns the token of its confirmation link.
async fn sign_up(app: &TestApp, smtp: &SmtpSink, address: &str) -> String {
    let response = app
        .client
        .post(format!("{}/subscribe", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("email", address)]).expect("form"))
        .send()
        .await
        .expect("sign-up");
    assert_eq!(response.status(), 200);
    app.deliver().await;
    let mails = smtp.wait_for(address, 1).await;
    token_after(&mails[0].text(), "/subscribe/confirm?token=")
}

/// The 64 hex digits after `prefix` in `text`.
fn token_after(text: &str, prefix: &str) -> String {
    let (_, rest) = text.split_once(prefix).expect("a link with a token");
    rest.chars().take_while(char::is_ascii_hexdigit).collect()
}

/// The request body's example (owner API), if the operation takes JSON.
fn json_body(doc: &Value, operation: &Value) -> Option<Value> {
    let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    let name = schema["$ref"].as_str()?.rsplit('/').next()?;
    let example = doc["components"]["schemas"][name]["example"].clone();
    assert!(!example.is_null(), "the schema {name} has an example");
    Some(example)
}

/// The owner forms with a preview: posting one changes nothing.
const PREVIEWS: [&str; 4] = [
    "/admin/incidents/new",
    "/admin/incidents/{id}",
    "/admin/maintenances/new",
    "/admin/maintenances/{id}",
];

/// Form fields for an owner form: a preview where the form has one, else no CSRF token (the
/// form is refused before anything happens).
fn form_fields<'a>(path: &str, csrf: &'a str) -> Vec<(&'static str, &'a str)> {
    if PREVIEWS.contains(&path) {
        vec![("csrf", csrf), ("action", "preview"), ("body", "*Soon.*")]
    } else {
        vec![("username", "owner")]
    }
}

/// A request to a public or owner API path (the owner's token always goes along).
async fn send(app: &TestApp, method: &str, url: &str, body: Option<Value>) -> reqwest::StatusCode {
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
    let mut request = app
        .client
        .request(method, format!("{}{url}", app.address))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.expect("request").status()
}
