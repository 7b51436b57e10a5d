//! The http probe against real local servers: each failure has its human reason.

use std::time::Duration;

use signalfire::domain::check::{CheckResult, Verdict};
use signalfire::domain::monitor::MonitorSpec;
use signalfire::probe::Prober;
use signalfire::startup::install_crypto_provider;

use crate::helpers::{Behavior, FakeSite, http_monitor, parse_config, test_config};

fn spec(url: &str, extra: &str) -> MonitorSpec {
    let text = test_config(
        std::path::Path::new("/tmp/unused"),
        &http_monitor("m", url, extra),
    );
    parse_config(&text).monitors.remove(0)
}

async fn check(url: &str, extra: &str) -> CheckResult {
    install_crypto_provider();
    Prober::new()
        .expect("client")
        .check(&spec(url, extra))
        .await
}

async fn site(behavior: Behavior) -> FakeSite {
    FakeSite::start(behavior).await
}

fn reason(result: &CheckResult) -> &str {
    result.reason.as_deref().unwrap_or("")
}

#[tokio::test]
async fn a_200_is_up() {
    let s = site(Behavior::Ok("hello".into())).await;
    let r = check(&s.url(), "").await;
    assert_eq!(r.verdict, Verdict::Up, "{r:?}");
}

#[tokio::test]
async fn server_errors_are_down_with_the_status_line() {
    let s = site(Behavior::Status(500)).await;
    let r = check(&s.url(), "").await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "HTTP 500 Internal Server Error")
    );
    s.set(Behavior::Status(503));
    let r = check(&s.url(), "").await;
    assert_eq!(reason(&r), "HTTP 503 Service Unavailable");
}

#[tokio::test]
async fn expect_status_narrows_what_counts_as_up() {
    let s = site(Behavior::Status(404)).await;
    assert_eq!(check(&s.url(), "").await.verdict, Verdict::Down);
    assert_eq!(
        check(&s.url(), "expect_status = [\"400-404\"]")
            .await
            .verdict,
        Verdict::Up
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let s = site(Behavior::Never).await;
    let r = check(&s.url(), "interval = \"5s\"\ntimeout = \"500ms\"").await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "timed out after 500ms")
    );
    assert!(r.elapsed < Duration::from_secs(2));
}

#[tokio::test]
async fn headers_without_a_body_time_out_reading_the_body() {
    let s = site(Behavior::HeadersOnly).await;
    let r = check(&s.url(), "interval = \"5s\"\ntimeout = \"500ms\"").await;
    assert_eq!(reason(&r), "timed out reading the body after 500ms");
}

#[tokio::test]
async fn a_dropped_connection_is_reported() {
    let s = site(Behavior::Close).await;
    let r = check(&s.url(), "").await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "connection closed before a response")
    );
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = check(&format!("http://127.0.0.1:{port}/"), "").await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "connection refused")
    );
}

#[tokio::test]
async fn keywords_must_be_present() {
    let s = site(Behavior::Ok("<h1>Social Photo Talk</h1>".into())).await;
    assert_eq!(
        check(&s.url(), "expect_body = \"Social Photo Talk\"")
            .await
            .verdict,
        Verdict::Up
    );
    let r = check(&s.url(), "expect_body = \"Add to cart\"").await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "keyword \"Add to cart\" not found")
    );
}

#[tokio::test]
async fn slow_answers_are_degraded() {
    let s = site(Behavior::Slow(Duration::from_millis(300), "ok".into())).await;
    let r = check(&s.url(), "degraded_after = \"100ms\"").await;
    assert_eq!(r.verdict, Verdict::Degraded);
    assert!(reason(&r).starts_with("slow: answered in"), "{r:?}");
}
