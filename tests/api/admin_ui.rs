//! The owner's web UI: log in, read the CSRF token from the form, post; and the guards.

use crate::browser::{Browser, csrf, texts};
use crate::helpers::{ADMIN_PASSWORD, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_opens_updates_and_resolves_an_incident_through_the_forms() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let mut browser = Browser::new(&app);
    let login = browser.login(ADMIN_PASSWORD).await;
    assert_eq!(
        (login.status, login.location.as_deref()),
        (303, Some("/admin"))
    );
    let set_cookie_flags = {
        let response = app
            .client
            .get(format!("{}/admin/login", app.address))
            .send()
            .await
            .expect("request");
        response.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .to_string()
    };
    assert!(
        set_cookie_flags.contains("HttpOnly") && set_cookie_flags.contains("SameSite=Strict"),
        "{set_cookie_flags}"
    );

    let form = browser.get("/admin/incidents/new").await;
    assert_eq!(form.status, 200);
    let token = csrf(&form.body);
    let preview = browser
        .post(
            "/admin/incidents/new",
            &[
                ("csrf", &token),
                ("name", "Blog is slow"),
                ("status", "investigating"),
                ("body", "We *see* it."),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status, 200);
    assert!(
        preview.body.contains("<em>see</em>"),
        "preview shows the rendered note"
    );
    let created = browser
        .post(
            "/admin/incidents/new",
            &[
                ("csrf", &token),
                ("name", "Blog is slow"),
                ("status", "investigating"),
                ("impact", ""),
                ("component.blog", "degraded_performance"),
                ("body", "We *see* slow pages."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let detail_path = created.location.expect("location");
    let id = detail_path.rsplit('/').next().expect("id").to_string();
    assert_eq!(
        app.component_status("blog").await.as_deref(),
        Some("degraded_performance")
    );

    for (status, note) in [
        ("identified", "A **plugin** is slow."),
        ("monitoring", "Plugin removed."),
    ] {
        let page = browser.get(&detail_path).await;
        let token = csrf(&page.body);
        let posted = browser
            .post(
                &detail_path,
                &[
                    ("csrf", &token),
                    ("status", status),
                    ("body", note),
                    ("component.blog", ""),
                    ("action", "save"),
                ],
            )
            .await;
        assert_eq!(posted.status, 303, "{}", posted.body);
    }
    let page = browser.get(&detail_path).await;
    let token = csrf(&page.body);
    let resolved = browser
        .post(
            &detail_path,
            &[
                ("csrf", &token),
                ("status", "resolved"),
                ("body", "This incident has been resolved."),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(resolved.status, 303);

    let public = app
        .get(&format!("/incidents/{id}"))
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(
        texts(&public, ".timeline .update__status"),
        vec!["Resolved", "Monitoring", "Identified", "Investigating"]
    );
    assert!(public.contains("<strong>plugin</strong>"));
    assert!(public.contains("<em>see</em>"));
    assert_eq!(
        app.component_status("blog").await.as_deref(),
        Some("operational")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_redirect_to_login_and_forms_need_their_token() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let mut anonymous = Browser::new(&app);
    for path in [
        "/admin",
        "/admin/incidents/new",
        "/admin/incidents/1",
        "/admin/maintenances/new",
        "/admin/maintenances/1",
    ] {
        let page = anonymous.get(path).await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (303, Some("/admin/login")),
            "GET {path}"
        );
    }
    for path in [
        "/admin/incidents/new",
        "/admin/incidents/1",
        "/admin/incidents/1/delete",
        "/admin/maintenances/new",
        "/admin/logout",
    ] {
        let page = anonymous.post(path, &[("name", "x")]).await;
        assert_eq!(
            (page.status, page.location.as_deref()),
            (303, Some("/admin/login")),
            "POST {path}"
        );
    }

    let mut owner = Browser::new(&app);
    assert_eq!(owner.login(ADMIN_PASSWORD).await.status, 303);
    let without_token = owner
        .post(
            "/admin/incidents/new",
            &[
                ("name", "Forged"),
                ("status", "investigating"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(without_token.status, 403);
    let wrong_token = owner
        .post(
            "/admin/incidents/new",
            &[
                ("csrf", "0000"),
                ("name", "Forged"),
                ("status", "investigating"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(wrong_token.status, 403);
    assert!(
        app.get_json("/api/v2/incidents.json").await["incidents"]
            .as_array()
            .expect("list")
            .is_empty()
    );

    let login_without_token = anonymous
        .post(
            "/admin/login",
            &[("username", "owner"), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(login_without_token.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sixth_failed_login_in_a_minute_is_refused_even_with_the_right_password() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let mut browser = Browser::new(&app);
    for attempt in 1..=5 {
        let page = browser.login("wrong password").await;
        assert_eq!(page.status, 401, "attempt {attempt}");
    }
    let sixth = browser.login(ADMIN_PASSWORD).await;
    assert_eq!(sixth.status, 429);
    assert!(sixth.location.is_none());
    assert_eq!(
        browser.get("/admin").await.status,
        303,
        "still not logged in"
    );
}
