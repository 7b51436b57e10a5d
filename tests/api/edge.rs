//! One HTTP edge: people get HTML pages in the site's layout, API clients get JSON; cached
//! files come gzipped with their own validators; cheap refusals cost no database read.

use std::io::Read;

use scraper::{Html, Selector};

use crate::helpers::{ADMIN_TOKEN, TestApp, http_monitor, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

async fn app() -> TestApp {
    spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The page's `<h1>`, after checking it is a whole page in the site's layout.
async fn html_heading(response: reqwest::Response) -> String {
    assert!(
        content_type(&response).starts_with("text/html"),
        "{}",
        content_type(&response)
    );
    let doc = Html::parse_document(&response.text().await.expect("body"));
    let one = |css: &str| {
        doc.select(&Selector::parse(css).expect("selector"))
            .next()
            .map(|e| e.text().collect::<String>().trim().to_string())
    };
    assert_eq!(
        one("header.site .brand").as_deref(),
        Some("Test status"),
        "in the layout"
    );
    one("main h1").unwrap_or_default()
}

async fn json_error(response: reqwest::Response) -> String {
    assert!(
        content_type(&response).starts_with("application/json"),
        "{}",
        content_type(&response)
    );
    let json: serde_json::Value = response.json().await.expect("json");
    json["error"].as_str().expect("error message").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_and_a_413_under_admin_are_html_pages_and_under_api_json() {
    let app = app().await;
    let missing = app.get("/admin/no-such-page").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(html_heading(missing).await, "Page not found");

    let missing = app.get("/api/no-such-endpoint").await;
    assert_eq!(missing.status(), 404);
    assert!(json_error(missing).await.contains("no API endpoint"));

    let huge_form = format!("username=owner&password={}", "x".repeat(100_000));
    let too_large = app
        .client
        .post(format!("{}/admin/login", app.address))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(huge_form)
        .send()
        .await
        .expect("request");
    assert_eq!(too_large.status(), 413);
    assert_eq!(html_heading(too_large).await, "Request too large");

    let too_large = app
        .client
        .post(format!("{}/api/admin/incidents", app.address))
        .bearer_auth(ADMIN_TOKEN)
        .header("Content-Type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "x".repeat(100_000)))
        .send()
        .await
        .expect("request");
    assert_eq!(too_large.status(), 413);
    assert!(json_error(too_large).await.contains("larger than"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_is_not_a_number_is_a_page_not_found_for_people() {
    let app = app().await;
    let response = app.get("/incidents/not-a-number").await;
    assert_eq!(response.status(), 404);
    assert_eq!(html_heading(response).await, "Page not found");
    let response = app.get("/badge/nothing.svg").await;
    assert_eq!(response.status(), 404);
    assert_eq!(html_heading(response).await, "Page not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_and_identity_bodies_carry_different_etags_and_each_revalidates() {
    let app = app().await;
    let get = |gzip: bool, etag: Option<String>| {
        let mut request = app.client.get(format!("{}/", app.address));
        if gzip {
            request = request.header("Accept-Encoding", "gzip");
        }
        if let Some(tag) = etag {
            request = request.header("If-None-Match", tag);
        }
        request.send()
    };
    let plain = get(false, None).await.expect("identity");
    let zipped = get(true, None).await.expect("gzip");
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(
        plain.headers().get_all("vary").iter().count(),
        1,
        "one Vary header"
    );
    let plain_tag = plain.headers()["etag"].to_str().expect("etag").to_string();
    let zipped_tag = zipped.headers()["etag"].to_str().expect("etag").to_string();
    assert_ne!(plain_tag, zipped_tag, "two representations, two tags");

    let plain_body = plain.bytes().await.expect("body");
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped.bytes().await.expect("body")[..])
        .read_to_end(&mut unzipped)
        .expect("gunzip");
    assert_eq!(unzipped, plain_body, "the same page");

    assert_eq!(
        get(true, Some(zipped_tag.clone()))
            .await
            .expect("r")
            .status(),
        304
    );
    assert_eq!(
        get(false, Some(plain_tag.clone()))
            .await
            .expect("r")
            .status(),
        304
    );
    assert_eq!(
        get(false, Some(zipped_tag)).await.expect("r").status(),
        200,
        "a gzip tag does not validate the identity body"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_component_feed_is_404_without_reading_the_database() {
    let app = app().await;
    let reads = app.state.db.reads();
    for path in [
        "/components/nobody/feed.rss",
        "/components/nobody/feed.atom",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    assert_eq!(app.state.db.reads(), reads, "no database read");
    assert_eq!(app.get("/components/blog/feed.rss").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_lets_crawlers_index_the_page_but_not_the_machinery() {
    let app = app().await;
    let response = app.get("/robots.txt").await;
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/plain"));
    let text = response.text().await.expect("body");
    assert!(text.contains("User-agent: *"));
    assert!(text.contains("Disallow: /api/admin/"));
    assert!(text.contains("Disallow: /ping/"));
    assert!(
        !text.lines().any(|l| l.trim() == "Disallow: /"),
        "the page may be indexed"
    );
}

/// SQL belongs to `src/db/`: any other module that needs a query asks a function there.
/// (Unit-test modules may set up what they test as they need.)
#[test]
fn sql_lives_only_under_src_db() {
    let keywords = [
        "SELECT ",
        "INSERT ",
        "UPDATE ",
        "DELETE ",
        "CREATE ",
        "ALTER ",
        "DROP ",
        "PRAGMA ",
        "SAVEPOINT",
        "ROLLBACK",
        "BEGIN IMMEDIATE",
        "BEGIN EXCLUSIVE",
        "BEGIN DEFERRED",
        "BEGIN TRANSACTION",
    ];
    let mut offenders = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                if path != root.join("db") {
                    folders.push(path);
                }
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read file");
            let code_lines = text.lines().take_while(|l| !l.contains("#[cfg(test)]"));
            for (n, line) in code_lines.enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                let in_string = code.split('"').skip(1).step_by(2);
                for literal in in_string {
                    if keywords.iter().any(|k| literal.trim_start().starts_with(k)) {
                        offenders.push(format!("{}:{}: {literal}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(offenders.is_empty(), "SQL outside src/db: {offenders:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn machine_endpoints_keep_their_plain_answers_and_encoded_api_paths_get_json() {
    let app = app().await;
    let ping = app.get("/ping/not-a-known-token").await;
    assert_eq!(ping.status(), 404);
    assert!(json_error(ping).await.contains("no heartbeat monitor"));
    let encoded = app.get("/%61pi/no-such-endpoint").await;
    assert_eq!(encoded.status(), 404);
    assert!(json_error(encoded).await.contains("no API endpoint"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_refused_by_name_wins_over_a_star() {
    let app = app().await;
    for (accept, gzip) in [
        ("gzip;q=0, *", false),
        ("*;q=0, gzip", true),
        ("identity", false),
        ("*", true),
        ("br, GZIP;q=0.5", true),
    ] {
        let response = app
            .client
            .get(format!("{}/", app.address))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(
            response.headers().get("content-encoding").is_some(),
            gzip,
            "Accept-Encoding: {accept}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_linked_with_their_version_are_kept_a_year() {
    let app = app().await;
    let page = app.get("/").await.text().await.expect("page");
    let doc = Html::parse_document(&page);
    let href = doc
        .select(&Selector::parse("link[rel=stylesheet]").expect("selector"))
        .next()
        .and_then(|l| l.value().attr("href"))
        .expect("stylesheet link")
        .to_string();
    let versioned = app.get(&href).await;
    assert_eq!(versioned.status(), 200);
    assert_eq!(
        versioned.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let plain = app.get("/assets/style.css").await;
    assert_eq!(plain.headers()["cache-control"], "public, max-age=60");
}
