//! The `smtp` kind against a local mail server: plain, STARTTLS and TLS from the first byte,
//! with certificates made by rcgen. Every test asserts the verdict and the words people read.

use std::time::Duration;

use signalfire::domain::check::{CheckResult, Verdict};

use crate::config_cli::check_config;
use crate::fakes::certificate;
use crate::fakes::smtp::{FakeSmtp, Script};
use crate::helpers::{parse_config, spawn_app, test_config};
use crate::probes::{ca_file, has_debug_text, reason, run, spec_from};

/// The names the test certificates are for: the fake listens on 127.0.0.1.
const LOCAL: &[&str] = &["127.0.0.1", "localhost"];
/// A check that waits for nothing long: a server that never answers fails it in 1 s.
const SHORT: &str = "interval = \"5s\"\ntimeout = \"1s\"\n";

fn smtp_monitor(port: u16, extra: &str) -> String {
    format!(
        "[[monitor]]\nid = \"mail\"\nname = \"Mail server\"\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\n{SHORT}{extra}\n"
    )
}

async fn check(server: &FakeSmtp, extra: &str) -> CheckResult {
    let r = run(spec_from(&smtp_monitor(server.port, extra))).await;
    assert!(!has_debug_text(reason(&r)), "{}", reason(&r));
    r
}

/// `tls_ca_file = "…"` for a CA, with the file that must live as long as the check.
fn trusting(ca_pem: Option<&str>) -> (tempfile::NamedTempFile, String) {
    let file = ca_file(ca_pem.expect("a CA"));
    let key = format!("tls_ca_file = \"{}\"\n", file.path().display());
    (file, key)
}

/// The check failed, with these words.
#[track_caller]
fn assert_down(r: &CheckResult, words: &str) {
    assert_eq!((r.verdict, reason(r)), (Verdict::Down, words), "{r:?}");
}

fn date_in(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_plain_mail_server_that_greets_and_answers_ehlo_is_up() {
    let server = FakeSmtp::start(Script::plain()).await;
    let r = check(&server, "tls = \"none\"").await;
    assert_eq!((r.verdict, r.reason.as_deref()), (Verdict::Up, None));
    assert!(r.elapsed < Duration::from_secs(1), "{:?}", r.elapsed);
    assert_eq!(r.cert_expires_at, None);
    assert_eq!(server.commands(), ["EHLO signalfire.invalid", "QUIT"]);
}

#[tokio::test]
async fn starttls_with_a_certificate_trusted_by_tls_ca_file_is_up() {
    let cert = certificate(LOCAL, 90, true);
    let (_ca, trust) = trusting(cert.ca_pem.as_deref());
    let server = FakeSmtp::start(Script::starttls(cert)).await;
    let spec = spec_from(&smtp_monitor(
        server.port,
        &format!("{trust}helo_name = \"status.test\""),
    ));
    assert_eq!(
        spec.target(),
        format!("smtp://127.0.0.1:{} with STARTTLS", server.port)
    );
    let r = run(spec).await;
    assert_eq!(
        (r.verdict, r.reason.as_deref()),
        (Verdict::Up, None),
        "{r:?}"
    );
    assert!(r.cert_expires_at.is_some(), "the result carries the expiry");
    assert_eq!(
        server.commands(),
        ["EHLO status.test", "STARTTLS", "EHLO status.test", "QUIT"],
        "EHLO again over TLS, then QUIT"
    );
}

#[tokio::test]
async fn a_self_signed_certificate_is_not_trusted() {
    let server = FakeSmtp::start(Script::starttls(certificate(LOCAL, 90, false))).await;
    let r = check(&server, "").await;
    assert_down(
        &r,
        "TLS: certificate not trusted (unknown issuer or self-signed)",
    );
}

#[tokio::test]
async fn an_expired_certificate_is_down_with_its_date() {
    let cert = certificate(LOCAL, -2, true);
    let (_ca, trust) = trusting(cert.ca_pem.as_deref());
    let server = FakeSmtp::start(Script::starttls(cert)).await;
    let r = check(&server, &trust).await;
    assert_down(&r, &format!("TLS: certificate expired on {}", date_in(-2)));
    assert!(r.cert_expires_at.is_some(), "read even though refused");
}

#[tokio::test]
async fn a_certificate_expiring_within_the_warning_is_degraded_with_its_date() {
    let cert = certificate(LOCAL, 3, true);
    let (_ca, trust) = trusting(cert.ca_pem.as_deref());
    let server = FakeSmtp::start(Script::starttls(cert)).await;
    let r = check(&server, &trust).await;
    assert_eq!(r.verdict, Verdict::Degraded, "{r:?}");
    assert!(
        reason(&r).starts_with(&format!(
            "TLS certificate expires on {} (in 2 days",
            date_in(3)
        )),
        "{r:?}"
    );
    let relaxed = check(&server, &format!("{trust}tls_expiry_warn = \"1d\"")).await;
    assert_eq!(relaxed.verdict, Verdict::Up, "{relaxed:?}");
}

#[tokio::test]
async fn a_server_that_offers_no_starttls_is_down_and_told_quit() {
    let server = FakeSmtp::start(Script::plain()).await;
    let r = check(&server, "tls = \"starttls\"").await;
    assert_down(&r, "no STARTTLS offered");
    assert_eq!(server.commands(), ["EHLO signalfire.invalid", "QUIT"]);
}

#[tokio::test]
async fn a_refusing_banner_is_down_naming_the_banner() {
    let server = FakeSmtp::start(Script {
        banner: Some("554 5.3.2 mail.test is not accepting mail".to_string()),
        ..Script::plain()
    })
    .await;
    let r = check(&server, "").await;
    assert_down(
        &r,
        "the server answered 554 5.3.2 mail.test is not accepting mail instead of 220 (banner)",
    );
    assert_eq!(
        server.commands(),
        ["QUIT"],
        "a refused session is ended politely"
    );
}

#[tokio::test]
async fn a_banner_that_is_not_smtp_or_never_ends_is_named() {
    let http = FakeSmtp::start(Script {
        banner: Some("HTTP/1.1 400 Bad Request".to_string()),
        ..Script::plain()
    })
    .await;
    let r = check(&http, "").await;
    assert_down(&r, "the server does not speak SMTP (no 220 banner)");
    let endless = FakeSmtp::start(Script {
        banner: Some(format!("{}220 ready", "220-welcome\r\n".repeat(100))),
        ..Script::plain()
    })
    .await;
    let r = check(&endless, "").await;
    assert_down(
        &r,
        "the SMTP banner is too long (over 4096 bytes or 64 lines)",
    );
}

#[tokio::test]
async fn refusals_of_ehlo_and_starttls_are_quoted() {
    let refuses_ehlo = FakeSmtp::start(Script {
        ehlo_reply: Some("550 5.7.1 go away".to_string()),
        ..Script::plain()
    })
    .await;
    let r = check(&refuses_ehlo, "tls = \"none\"").await;
    assert_down(&r, "EHLO refused: 550 5.7.1 go away");
    let refuses_tls = FakeSmtp::start(Script {
        starttls_reply: "454 4.7.0 TLS not available due to local problem".to_string(),
        ..Script::starttls(certificate(LOCAL, 90, true))
    })
    .await;
    let r = check(&refuses_tls, "").await;
    assert_down(
        &r,
        "STARTTLS refused: 454 4.7.0 TLS not available due to local problem",
    );
    assert_eq!(
        refuses_tls.commands().last().map(String::as_str),
        Some("QUIT")
    );
}

#[tokio::test]
async fn a_closed_port_is_refused_and_a_dropped_session_names_its_step() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let r = run(spec_from(&smtp_monitor(closed, ""))).await;
    assert_down(&r, "connection refused");

    let drops_at_ehlo = FakeSmtp::start(Script {
        close_at: Some("EHLO"),
        ..Script::plain()
    })
    .await;
    let r = check(&drops_at_ehlo, "tls = \"none\"").await;
    assert_down(&r, "connection closed after EHLO");

    let drops_at_starttls = FakeSmtp::start(Script {
        close_at: Some("STARTTLS"),
        ..Script::starttls(certificate(LOCAL, 90, true))
    })
    .await;
    let r = check(&drops_at_starttls, "").await;
    assert_down(&r, "connection closed after STARTTLS");
}

#[tokio::test]
async fn a_server_that_never_greets_fails_at_the_timeout_waiting_for_the_banner() {
    let server = FakeSmtp::start(Script {
        banner: None,
        ..Script::plain()
    })
    .await;
    let r = check(&server, "").await;
    assert_down(&r, "no SMTP banner within 1s");
    assert!(r.elapsed < Duration::from_secs(2), "{:?}", r.elapsed);
}

#[tokio::test]
async fn implicit_tls_is_spoken_from_the_first_byte() {
    let cert = certificate(LOCAL, 90, true);
    let (_ca, trust) = trusting(cert.ca_pem.as_deref());
    let server = FakeSmtp::start(Script::implicit(cert)).await;
    let r = check(&server, &format!("{trust}tls = \"implicit\"")).await;
    assert_eq!(
        (r.verdict, r.reason.as_deref()),
        (Verdict::Up, None),
        "{r:?}"
    );
    assert_eq!(server.commands(), ["EHLO signalfire.invalid", "QUIT"]);

    let plain = FakeSmtp::start(Script::plain()).await;
    let r = check(&plain, "tls = \"implicit\"").await;
    assert_down(
        &r,
        "TLS: the server did not answer in TLS (is this port plain SMTP? try tls = \"starttls\")",
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_says_whose_it_is() {
    let cert = certificate(&["other.example"], 90, true);
    let (_ca, trust) = trusting(cert.ca_pem.as_deref());
    let server = FakeSmtp::start(Script::starttls(cert)).await;
    let r = check(&server, &trust).await;
    assert_down(&r, "TLS: certificate is for other.example, not 127.0.0.1");
}

#[test]
fn without_tls_the_port_decides_and_without_a_port_tls_does() {
    let target = |keys: &str| {
        let table = format!(
            "[[monitor]]\nid = \"mail\"\nkind = \"smtp\"\nhost = \"mail.example\"\n{keys}\n"
        );
        let text = test_config(std::path::Path::new("/tmp/unused"), &table);
        parse_config(&text).monitors.remove(0).target()
    };
    assert_eq!(target(""), "smtp://mail.example:25 with STARTTLS");
    assert_eq!(
        target("port = 587"),
        "smtp://mail.example:587 with STARTTLS"
    );
    assert_eq!(target("port = 465"), "smtps://mail.example:465");
    assert_eq!(target("tls = \"implicit\""), "smtps://mail.example:465");
    assert_eq!(
        target("tls = \"none\""),
        "smtp://mail.example:25 without TLS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_server_without_starttls_takes_its_component_down_with_the_reason() {
    let server = FakeSmtp::start(Script::plain()).await;
    let table = smtp_monitor(server.port, "failures_before_down = 1")
        .replace("interval = \"5s\"\n", "cron = \"0 0 0 1 1 *\"\n");
    let app = spawn_app(&table).await;
    app.state
        .checker
        .run_check(&app.monitor())
        .await
        .expect("check");
    app.settle().await;
    assert_eq!(
        app.component_status("mail").await.as_deref(),
        Some("major_outage")
    );
    let incidents = app.get_json("/api/v2/incidents.json").await;
    let body = incidents["incidents"][0]["incident_updates"][0]["body"]
        .as_str()
        .expect("an update");
    assert!(body.contains("is down: no STARTTLS offered."), "{body}");
    assert!(
        !body.contains(&server.port.to_string()),
        "public text never carries the check's host or port: {body}"
    );
}

#[test]
fn smtp_config_mistakes_are_reported_at_their_keys() {
    let (code, _, stderr) = check_config(
        r#"[[monitor]]
id = "mail"
kind = "smtp"
host = "mail.example"
port = 70000
tls = "ssl"
helo_name = "status example"
tls_verify = false

[[monitor]]
id = "relay"
kind = "smtp"
host = "relay.example"
tls = "none"
tls_ca_file = "ca.pem"
helo_nam = "x.example"
"#,
    );
    assert_eq!(code, 2, "{stderr}");
    for expected in [
        "config.toml:5:8: port 70000 is not a port number from 1 to 65535",
        "config.toml:6:7: tls \"ssl\" is not known; use \"starttls\", \"implicit\" or \"none\"",
        "config.toml:7:13: helo_name \"status example\" is not a host name",
        "config.toml:8:1: tls_verify does not apply to a smtp monitor",
        "config.toml:15:15: tls_ca_file does not apply with tls = \"none\"",
        "config.toml:16:1: unknown key \"helo_nam\" in [monitor]; did you mean \"helo_name\"?",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
}
