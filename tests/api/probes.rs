//! The fault suite: every probe against real local servers misbehaving in one way each;
//! every test asserts the verdict and the reason people will read.

use std::net::Ipv4Addr;
use std::time::Duration;

use signalfire::config::MonitorSpec;
use signalfire::domain::check::{CheckResult, Verdict};
use signalfire::probe::Prober;
use signalfire::startup::install_crypto_provider;

use crate::fakes::{dns_server, tls_site};
use crate::helpers::{Behavior, FakeSite, http_monitor, parse_config, spawn_app, test_config};

const SHORT: &str = "interval = \"5s\"\ntimeout = \"2s\"\n";

pub(crate) fn spec_from(table: &str) -> MonitorSpec {
    let text = test_config(std::path::Path::new("/tmp/unused"), table);
    parse_config(&text).monitors.remove(0)
}

pub(crate) async fn run(spec: MonitorSpec) -> CheckResult {
    install_crypto_provider();
    let probe = spec.probe().expect("a probed monitor");
    let prober = Prober::new([probe]).expect("prober");
    prober.check(probe, spec.timeout, spec.degraded_after).await
}

async fn check(url: &str, extra: &str) -> CheckResult {
    run(spec_from(&http_monitor("m", url, extra))).await
}

pub(crate) fn reason(result: &CheckResult) -> &str {
    result.reason.as_deref().unwrap_or("")
}

async fn site(behavior: Behavior) -> FakeSite {
    FakeSite::start(behavior).await
}

#[tokio::test]
async fn a_200_is_up_with_its_response_time() {
    let s = site(Behavior::Ok("hello".into())).await;
    let r = check(&s.url(), "").await;
    assert_eq!((r.verdict, r.reason.as_deref()), (Verdict::Up, None));
    assert!(r.elapsed < Duration::from_secs(1));
}

#[tokio::test]
async fn server_errors_are_down_with_the_status_line() {
    let s = site(Behavior::Status(500)).await;
    assert_eq!(
        reason(&check(&s.url(), "").await),
        "HTTP 500 Internal Server Error"
    );
    s.set(Behavior::Status(503));
    let r = check(&s.url(), "").await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "HTTP 503 Service Unavailable")
    );
}

#[tokio::test]
async fn expect_status_lists_and_ranges_decide_what_is_up() {
    let s = site(Behavior::Status(404)).await;
    assert_eq!(check(&s.url(), "").await.verdict, Verdict::Down);
    assert_eq!(
        check(&s.url(), "expect_status = [\"400-404\"]")
            .await
            .verdict,
        Verdict::Up
    );
    assert_eq!(
        check(&s.url(), "expect_status = [200, 404]").await.verdict,
        Verdict::Up
    );
}

#[tokio::test]
async fn a_server_that_accepts_and_never_answers_times_out() {
    let s = site(Behavior::Never).await;
    let r = check(&s.url(), SHORT).await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "timed out after 2s")
    );
    assert!(r.elapsed < Duration::from_secs(3));
}

#[tokio::test]
async fn headers_then_no_body_times_out_reading_the_body() {
    let s = site(Behavior::HeadersOnly).await;
    let r = check(&s.url(), SHORT).await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "timed out reading the body after 2s")
    );
}

#[tokio::test]
async fn a_trickling_server_hits_the_hard_deadline() {
    let s = site(Behavior::Trickle).await;
    let r = check(&s.url(), SHORT).await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "timed out reading the body after 2s")
    );
    assert!(r.elapsed < Duration::from_secs(3), "{:?}", r.elapsed);
}

#[tokio::test]
async fn a_reset_connection_is_reported() {
    let s = site(Behavior::Reset).await;
    let r = check(&s.url(), "").await;
    assert_eq!(r.verdict, Verdict::Down);
    assert!(
        matches!(
            reason(&r),
            "connection reset by the server" | "connection closed before a response"
        ),
        "{r:?}"
    );
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
async fn a_redirect_loop_is_named() {
    let s = site(Behavior::RedirectLoop).await;
    let r = check(&s.url(), "").await;
    assert_eq!(r.verdict, Verdict::Down);
    assert!(reason(&r).starts_with("redirect loop: "), "{r:?}");
    let unfollowed = check(&s.url(), "follow_redirects = false").await;
    assert_eq!(
        unfollowed.verdict,
        Verdict::Up,
        "a 301 counts as up when redirects are not followed"
    );
}

#[tokio::test]
async fn keywords_must_be_present_and_error_texts_absent() {
    let s = site(Behavior::Ok("<h1>Social Photo Talk</h1>".into())).await;
    assert_eq!(
        check(&s.url(), "expect_body = \"Social Photo Talk\"")
            .await
            .verdict,
        Verdict::Up
    );
    let missing = check(&s.url(), "expect_body = \"Add to cart\"").await;
    assert_eq!(
        (missing.verdict, reason(&missing)),
        (Verdict::Down, "keyword \"Add to cart\" not found")
    );
    s.set(Behavior::Ok(
        "<p>Error establishing a database connection</p>".into(),
    ));
    let forbidden = check(
        &s.url(),
        "expect_body_absent = \"Error establishing a database connection\"",
    )
    .await;
    assert_eq!(
        (forbidden.verdict, reason(&forbidden)),
        (
            Verdict::Down,
            "error text \"Error establishing a database connection\" found in the body"
        )
    );
}

#[tokio::test]
async fn slow_answers_are_degraded() {
    let s = site(Behavior::Slow(Duration::from_millis(300), "ok".into())).await;
    let r = check(&s.url(), "degraded_after = \"100ms\"").await;
    assert_eq!(r.verdict, Verdict::Degraded);
    assert!(reason(&r).starts_with("slow: answered in"), "{r:?}");
}

#[tokio::test]
async fn a_self_signed_certificate_is_not_trusted() {
    let s = tls_site(90, false).await;
    let r = check(&s.url(), "").await;
    assert_eq!(r.verdict, Verdict::Down);
    assert!(
        reason(&r).starts_with("TLS: certificate not trusted"),
        "{r:?}"
    );
}

pub(crate) fn ca_file(pem: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), pem).expect("write CA");
    file
}

#[tokio::test]
async fn a_certificate_expiring_within_the_warning_is_degraded_with_its_date() {
    let s = tls_site(3, true).await;
    let ca = ca_file(s.ca_pem.as_deref().expect("ca"));
    let extra = format!(
        "tls_expiry_warn = \"14d\"\ntls_ca_file = \"{}\"",
        ca.path().display()
    );
    let r = check(&s.url(), &extra).await;
    assert_eq!(r.verdict, Verdict::Degraded, "{r:?}");
    let date = (chrono::Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        reason(&r).starts_with(&format!("TLS certificate expires on {date}")),
        "{r:?}"
    );
    assert!(
        r.cert_expires_at.is_some(),
        "the result carries the not-after date"
    );
    let relaxed = check(
        &s.url(),
        &format!(
            "tls_expiry_warn = \"1d\"\ntls_ca_file = \"{}\"",
            ca.path().display()
        ),
    )
    .await;
    assert_eq!(relaxed.verdict, Verdict::Up);
}

#[tokio::test]
async fn an_expired_certificate_is_down_with_its_date() {
    let s = tls_site(-2, true).await;
    let ca = ca_file(s.ca_pem.as_deref().expect("ca"));
    let r = check(
        &s.url(),
        &format!("tls_ca_file = \"{}\"", ca.path().display()),
    )
    .await;
    assert_eq!(r.verdict, Verdict::Down);
    let date = (chrono::Utc::now() - chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(reason(&r), format!("TLS: certificate expired on {date}"));
}

fn tcp_monitor(port: u16) -> String {
    format!(
        "[[monitor]]\nid = \"mail\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = {port}\n{SHORT}"
    )
}

#[tokio::test]
async fn a_closed_tcp_port_is_refused_and_an_open_one_up() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = run(spec_from(&tcp_monitor(closed))).await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (Verdict::Down, "connection refused")
    );
    let open = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let r = run(spec_from(&tcp_monitor(
        open.local_addr().expect("addr").port(),
    )))
    .await;
    assert_eq!(r.verdict, Verdict::Up);
}

#[tokio::test]
async fn a_closed_http_port_is_connection_refused() {
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

fn dns_monitor(resolver: std::net::SocketAddr, host: &str, expect: &str) -> String {
    format!(
        "[[monitor]]\nid = \"dns\"\nkind = \"dns\"\nhost = \"{host}\"\nresolver = \"{resolver}\"\n{expect}\n{SHORT}"
    )
}

#[tokio::test]
async fn dns_names_must_resolve_to_the_expected_address() {
    let server = dns_server(&[
        ("socialphototalk.example", Ipv4Addr::new(203, 0, 113, 7)),
        ("moved.example", Ipv4Addr::new(198, 51, 100, 9)),
    ])
    .await;
    let expect = "expect_address = [\"203.0.113.7\"]";
    let good = run(spec_from(&dns_monitor(
        server,
        "socialphototalk.example",
        expect,
    )))
    .await;
    assert_eq!(good.verdict, Verdict::Up, "{good:?}");
    let wrong = run(spec_from(&dns_monitor(server, "moved.example", expect))).await;
    assert_eq!(
        (wrong.verdict, reason(&wrong)),
        (
            Verdict::Down,
            "moved.example resolves to 198.51.100.9 (expected 203.0.113.7)"
        )
    );
    let missing = run(spec_from(&dns_monitor(server, "gone.example", expect))).await;
    assert_eq!(
        (missing.verdict, reason(&missing)),
        (Verdict::Down, "NXDOMAIN: gone.example does not exist")
    );
}

/// SPEC §5: the page says why a check failed, never where the service is — its host and the
/// addresses it resolved to stay in the owner's alerts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_says_why_a_check_failed_without_the_host_or_its_addresses() {
    let server = dns_server(&[("moved.example", Ipv4Addr::new(198, 51, 100, 9))]).await;
    let app = spawn_app(&dns_monitor(
        server,
        "moved.example",
        "expect_address = [\"203.0.113.7\"]",
    ))
    .await;
    assert!(app.tick(Duration::from_secs(5)).await >= 1, "one check ran");
    app.render().await;
    let page = app.get("/").await.text().await.expect("body");
    assert!(
        page.contains("the service resolves to the service"),
        "the reason, in words: {page}"
    );
    for hidden in ["moved.example", "198.51.100.9", "203.0.113.7"] {
        assert!(!page.contains(hidden), "/ carries {hidden}");
    }
}

/// A port that answers in plain HTTP whatever it is sent — an https URL on an http port.
async fn plain_http_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    port
}

/// True when `text` holds a Rust identifier in CamelCase (`InvalidContentType`): debug text.
pub(crate) fn has_debug_text(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| {
            let mut chars = word.chars();
            chars.next().is_some_and(|c| c.is_ascii_uppercase())
                && word.chars().skip(1).any(|c| c.is_ascii_uppercase())
                && word.chars().any(|c| c.is_ascii_lowercase())
        })
}

#[tokio::test]
async fn https_on_a_plain_http_port_says_so_in_words_not_library_text() {
    let port = plain_http_port().await;
    let r = check(&format!("https://127.0.0.1:{port}/"), SHORT).await;
    assert_eq!(
        (r.verdict, reason(&r)),
        (
            Verdict::Down,
            "TLS: the server did not answer in TLS (is this port plain HTTP?)"
        )
    );
    assert!(!has_debug_text(reason(&r)), "{}", reason(&r));
}

#[tokio::test]
async fn a_host_that_does_not_resolve_is_a_dns_failure_for_tcp_and_http_alike() {
    // An empty label fails in the resolver library itself: no DNS query leaves the machine.
    let tcp = run(spec_from(
        "[[monitor]]\nid = \"mail\"\nkind = \"tcp\"\nhost = \"mail..example\"\nport = 587\ntimeout = \"2s\"\n",
    ))
    .await;
    let http = check("http://mail..example/", SHORT).await;
    assert_eq!(
        (tcp.verdict, reason(&tcp)),
        (Verdict::Down, "DNS lookup failed")
    );
    assert_eq!(
        (http.verdict, reason(&http)),
        (Verdict::Down, "DNS lookup failed")
    );
}
