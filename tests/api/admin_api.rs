//! The owner API's guards and errors: 401 without the token, 4xx JSON naming the problem.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_call_needs_the_token() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let calls = [
        ("POST", "/api/admin/incidents"),
        ("POST", "/api/admin/incidents/1/updates"),
        ("PATCH", "/api/admin/incidents/1"),
        ("DELETE", "/api/admin/incidents/1"),
        ("POST", "/api/admin/maintenances"),
        ("PATCH", "/api/admin/maintenances/1"),
        ("DELETE", "/api/admin/maintenances/1"),
    ];
    let mut refused = 0;
    for (method, path) in calls {
        for auth in [
            None,
            Some("Bearer wrong-token"),
            Some("wrong-scheme"),
            Some(&*format!("Basic {ADMIN_TOKEN}")),
        ] {
            let mut request = app
                .client
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                    format!("{}{path}", app.address),
                )
                .json(&json!({"name": "x", "status": "investigating"}));
            if let Some(auth) = auth {
                request = request.header("Authorization", auth);
            }
            let response = request.send().await.expect("request");
            // After ten wrong tokens in a minute the address is refused unchecked (no token
            // at all is not a guess and is not counted).
            let expected = if auth.is_none() || refused < 10 {
                401
            } else {
                429
            };
            refused += usize::from(auth.is_some());
            assert_eq!(response.status(), expected, "{method} {path} with {auth:?}");
            let body: Value = response.json().await.expect("json error");
            assert!(body["error"].is_string());
        }
    }
    assert!(
        app.get_json("/api/v2/incidents.json").await["incidents"]
            .as_array()
            .expect("list")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_4xx_json_error_naming_the_problem() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let resolved = app
        .open_incident(json!({"name": "Done", "status": "resolved"}))
        .await;
    let open = app.open_incident(json!({"name": "Open"})).await;
    let raw = |text: &str| Some(Value::String(text.to_string()));
    let cases: Vec<(&str, String, Option<Value>, u16, &str)> = vec![
        (
            "POST",
            "/api/admin/incidents".into(),
            raw("{not json"),
            400,
            "not valid JSON",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": 5})),
            400,
            "name:",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"status": "investigating"})),
            400,
            "name:",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "  "})),
            400,
            "name:",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "status": "broken"})),
            400,
            "status:",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "status": "scheduled"})),
            400,
            "status:",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "impact": "huge"})),
            400,
            "impact:",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "components": {"nope": "major_outage"}})),
            400,
            "components.nope",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "components": {"blog": "down"}})),
            400,
            "components.blog",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "components": ["blog"]})),
            400,
            "components:",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "colour": "red"})),
            400,
            "colour",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!([1, 2])),
            400,
            "must be a JSON object",
        ),
        ("POST", "/api/admin/incidents".into(), raw(""), 400, "empty"),
        (
            "POST",
            "/api/admin/incidents".into(),
            Some(json!({"name": "x", "body": "a".repeat(70_000)})),
            413,
            "larger",
        ),
        (
            "POST",
            format!("/api/admin/incidents/{open}/updates"),
            Some(json!({"body": "no status"})),
            400,
            "status:",
        ),
        (
            "POST",
            format!("/api/admin/incidents/{open}/updates"),
            Some(json!({"status": "in_progress"})),
            400,
            "status:",
        ),
        (
            "POST",
            format!("/api/admin/incidents/{resolved}/updates"),
            Some(json!({"status": "investigating"})),
            422,
            "resolved",
        ),
        (
            "POST",
            "/api/admin/incidents/999999/updates".into(),
            Some(json!({"status": "identified"})),
            404,
            "999999",
        ),
        (
            "POST",
            "/api/admin/incidents/abc/updates".into(),
            Some(json!({"status": "identified"})),
            404,
            "abc",
        ),
        (
            "PATCH",
            format!("/api/admin/incidents/{open}"),
            Some(json!({"impact": "enormous"})),
            400,
            "impact:",
        ),
        (
            "DELETE",
            "/api/admin/incidents/999999".into(),
            None,
            404,
            "999999",
        ),
        (
            "POST",
            "/api/admin/maintenances".into(),
            Some(
                json!({"name": "m", "scheduled_for": "tomorrow", "scheduled_until": "2030-01-01T00:00:00Z"}),
            ),
            400,
            "scheduled_for:",
        ),
        (
            "POST",
            "/api/admin/maintenances".into(),
            Some(
                json!({"name": "m", "scheduled_for": "2030-01-02T00:00:00Z", "scheduled_until": "2030-01-01T00:00:00Z"}),
            ),
            400,
            "scheduled_until:",
        ),
        (
            "POST",
            "/api/admin/maintenances".into(),
            Some(
                json!({"name": "m", "scheduled_for": "2030-01-01T00:00:00Z", "scheduled_until": "2030-01-02T00:00:00Z", "components": ["ghost"]}),
            ),
            400,
            "components[0]",
        ),
        (
            "POST",
            "/api/admin/maintenances".into(),
            Some(
                json!({"name": "m", "scheduled_for": "1900-01-01T00:00:00Z", "scheduled_until": "9999-12-31T00:00:00Z"}),
            ),
            400,
            "scheduled_for: \"1900-01-01T00:00:00Z\" is out of range",
        ),
        (
            "POST",
            "/api/admin/maintenances".into(),
            Some(
                json!({"name": "m", "scheduled_for": "2030-01-01T00:00:00Z", "scheduled_until": "2032-01-01T00:00:00Z"}),
            ),
            400,
            "at most 366 days",
        ),
        (
            "POST",
            "/api/admin/maintenances".into(),
            Some(
                json!({"name": "m", "scheduled_for": "2030-06-30T23:59:60Z", "scheduled_until": "2030-07-01T00:00:00Z"}),
            ),
            400,
            "leap second",
        ),
        (
            "POST",
            "/api/admin/incidents".into(),
            raw(r#"{"name":"x"} junk"#),
            400,
            "after the JSON value",
        ),
    ];
    for (method, path, body, status, needle) in cases {
        let mut request = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                format!("{}{path}", app.address),
            )
            .bearer_auth(ADMIN_TOKEN)
            .header("Content-Type", "application/json");
        match body {
            Some(Value::String(raw)) => request = request.body(raw),
            Some(json) => request = request.body(json.to_string()),
            None => {}
        }
        let response = request.send().await.expect("request");
        let got = response.status().as_u16();
        let error: Value = response.json().await.unwrap_or(Value::Null);
        let message = error["error"].as_str().unwrap_or("<no JSON error>");
        assert_eq!(got, status, "{method} {path}: {message}");
        assert!(
            message.contains(needle),
            "{method} {path}: {message:?} should mention {needle:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_with_script_and_raw_html_are_stored_but_never_live() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let evil = "<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(2)) \
                <a href=\"javascript:alert(3)\" onclick=\"alert(4)\">raw</a> <iframe src=\"https://evil.example\"></iframe>\n\n\
                <div style=\"position:fixed\" onmouseover=\"alert(5)\">hover</div>\n\n**still bold**";
    let id = app
        .open_incident(json!({"name": "<b>Name</b> with <script>x</script>", "body": evil}))
        .await;
    let stored = app.get_json("/api/v2/incidents.json").await;
    assert_eq!(
        stored["incidents"][0]["incident_updates"][0]["body"], evil,
        "the note is kept as written"
    );

    for path in [
        format!("/incidents/{id}"),
        "/".to_string(),
        "/history".to_string(),
    ] {
        let html = app.get(&path).await.text().await.expect("body");
        let doc = scraper::Html::parse_document(&html);
        let all = scraper::Selector::parse("main *").expect("selector");
        for element in doc.select(&all) {
            let name = element.value().name();
            assert!(
                !matches!(name, "script" | "iframe" | "object" | "embed"),
                "{path}: live <{name}>"
            );
            for (attr, value) in element.value().attrs() {
                assert!(
                    !attr.starts_with("on"),
                    "{path}: event handler {attr} on <{name}>"
                );
                assert!(
                    !value.trim_start().to_lowercase().starts_with("javascript:"),
                    "{path}: {attr}={value}"
                );
                assert!(attr != "style", "{path}: inline style on <{name}>");
            }
        }
        assert!(
            html.contains("&lt;b&gt;Name&lt;/b&gt;"),
            "{path}: the name is escaped as text"
        );
    }
    let page = app
        .get(&format!("/incidents/{id}"))
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains("<strong>still bold</strong>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_declared_json_gets_415_and_says_how() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .client
            .post(format!("{}/api/admin/incidents", app.address))
            .bearer_auth(ADMIN_TOKEN)
            .body(r#"{"name":"x"}"#);
        if let Some(value) = content_type {
            request = request.header("Content-Type", value);
        }
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), 415, "{content_type:?}");
        let error: Value = response.json().await.expect("json");
        assert!(
            error["error"]
                .as_str()
                .is_some_and(|e| e.contains("Content-Type: application/json")),
            "{error}"
        );
    }
    let ok = app
        .client
        .post(format!("{}/api/admin/incidents", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .header("Content-Type", "application/json; charset=utf-8")
        .body(r#"{"name":"x"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(ok.status(), 201, "parameters are fine");
}
