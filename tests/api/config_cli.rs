//! `signalfire check-config`: exit 2 with one `file:line:column` message per problem.

use std::process::Command;

/// Runs `signalfire check-config` on `text`: exit code, stdout, and stderr with the file
/// named `config.toml`.
pub fn check_config(text: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .expect("run signalfire");
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&path.display().to_string(), "config.toml");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        stderr,
    )
}

/// The `file:line:column` problems `check-config` reports on a config it refuses (exit 2).
pub fn problems(text: &str) -> Vec<String> {
    let (code, _, stderr) = check_config(text);
    assert_eq!(code, 2, "{stderr}");
    stderr
        .lines()
        .filter(|l| l.starts_with("config.toml:"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_example_config_is_valid() {
    let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args([
            "check-config",
            "--config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml"),
        ])
        .output()
        .expect("run signalfire");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("blog") && stdout.contains("proof-galleries"),
        "{stdout}"
    );
}

#[test]
fn unknown_key_duplicate_id_and_bad_duration_are_each_reported_with_their_position() {
    let text = r#"[page]
title = "x"

[[monitor]]
id = "blog"
url = "https://blog.example/"
intervall = "30s"

[[monitor]]
id = "blog"
url = "https://shop.example/"
timeout = "ten seconds"
"#;
    let lines = problems(text);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(
        lines[0].starts_with("config.toml:7:1: unknown key \"intervall\""),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("did you mean \"interval\""));
    assert!(
        lines[1].starts_with("config.toml:10:6: duplicate monitor id \"blog\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("config.toml:12:11: timeout:"),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("e.g. \"30s\""));
}

#[test]
fn bad_ids_urls_and_timeouts_longer_than_the_interval_are_reported_together() {
    let text = r#"[[monitor]]
id = "Blog Page"
url = "not a url"
interval = "5s"
timeout = "10s"
"#;
    let (code, _, stderr) = check_config(text);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("config.toml:2:6: id \"Blog Page\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("config.toml:3:7: url \"not a url\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("config.toml:5:11: timeout 10s is not shorter than interval 5s"),
        "{stderr}"
    );
}

#[test]
fn a_missing_config_file_names_the_example() {
    let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["--config", "/nonexistent/config.toml"])
        .output()
        .expect("run signalfire");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.example.toml"));
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .arg("frobnicate")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn hash_password_prints_a_verifiable_argon2id_hash() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .arg("hash-password")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"s3cret pass\n")
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(0));
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(signalfire::auth::verify_password("s3cret pass", &hash));
    assert!(!signalfire::auth::verify_password("s3cret pass\n", &hash));
}

#[test]
fn a_heartbeat_grace_that_is_not_a_multiple_of_four_seconds_is_fine() {
    let text = "[[monitor]]\nid = \"job\"\nkind = \"heartbeat\"\ntoken = \"a-long-enough-token\"\ngrace = \"10s\"\n";
    let (code, stdout, stderr) = check_config(text);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("every 2.5s"), "{stdout}");
}

#[test]
fn a_malformed_password_hash_from_the_environment_is_reported() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[page]\ntitle = \"x\"\n").expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["check-config", "--config"])
        .arg(&path)
        .env("SIGNALFIRE_ADMIN_PASSWORD_HASH", "not-a-hash")
        .output()
        .expect("run signalfire");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("SIGNALFIRE_ADMIN_PASSWORD_HASH must be an argon2id PHC string")
    );
}

#[test]
fn tls_ca_file_is_read_from_the_config_files_folder_like_data_dir() {
    let dir = tempfile::tempdir().expect("dir");
    let key = rcgen::KeyPair::generate().expect("key");
    let ca = rcgen::CertificateParams::new(vec!["ca.example".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("ca");
    std::fs::create_dir(dir.path().join("certs")).expect("certs folder");
    std::fs::write(dir.path().join("certs/ca.pem"), ca.pem()).expect("write ca");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[[monitor]]\nid = \"intranet\"\nurl = \"https://127.0.0.1:8443/\"\ntls_ca_file = \"certs/ca.pem\"\n",
    )
    .expect("write config");
    // Started from elsewhere, as a service manager would.
    let elsewhere = tempfile::tempdir().expect("other dir");
    let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .current_dir(elsewhere.path())
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .expect("run signalfire");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cron_lines_with_a_year_or_no_next_run_are_refused() {
    let (code, _, stderr) = check_config(
        "[[monitor]]\nid = \"a\"\nurl = \"https://a.example/\"\ncron = \"0 0 9 * * * 2024\"\n\n\
         [[monitor]]\nid = \"b\"\nurl = \"https://b.example/\"\ncron = \"0 0 0 30 2 *\"\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("config.toml:4:8: cron \"0 0 9 * * * 2024\" has 7 fields"),
        "{stderr}"
    );
    assert!(
        stderr.contains("config.toml:9:8: cron \"0 0 0 30 2 *\" never fires"),
        "{stderr}"
    );
}

#[test]
fn every_notify_mistake_is_reported_at_its_key() {
    let (code, _, stderr) = check_config(
        r#"[[monitor]]
id = "blog"
url = "https://blog.example/"

[[notify]]
id = "mail"
kind = "email"
to = ["owner@example.com", "not-an-address"]

[[notify]]
id = "chat"
kind = "carrier-pigeon"

[[notify]]
id = "hook"
kind = "webhook"
url = "ftp://example.com/x"
events = ["monitor", "everything"]
components = ["blog", "shop"]

[[notify]]
id = "toot"
kind = "mastodon"
url = "https://social.example"
events = ["monitor"]
colour = "blue"

[smtp]
host = "smtp.example.net"
tls = "none"
from = "Status <status@example.com>"
"#,
    );
    assert_eq!(code, 2, "{stderr}");
    for expected in [
        "config.toml:8:28: to: \"not-an-address\" is not an e-mail address",
        "config.toml:12:8: kind \"carrier-pigeon\" is not known; use one of \"email\", \"webhook\", \"slack\", \"discord\", \"ntfy\", \"mastodon\"",
        "config.toml:17:7: url \"ftp://example.com/x\" is not an absolute http:// or https:// URL",
        "config.toml:18:22: events: \"everything\" is not an event",
        "config.toml:19:23: components: \"shop\" is not a monitor id; known monitors: blog",
        "config.toml:23:8: a mastodon channel needs its access token in the environment: SIGNALFIRE_NOTIFY_TOOT_TOKEN",
        "config.toml:25:11: events: a mastodon channel posts in public",
        "config.toml:26:1: unknown key \"colour\" in [notify]",
        "config.toml:30:7: tls = \"none\" sends mail and passwords in the clear",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert!(stderr.contains("9 problems"), "{stderr}");

    let (code, _, stderr) = check_config(
        "[[notify]]\nid = \"mail\"\nkind = \"email\"\nto = [\"owner@example.com\"]\n\n[subscribers]\nemail = true\n",
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("config.toml:3:8: an email channel sends through [smtp]"),
        "{stderr}"
    );
    assert!(
        stderr.contains("config.toml:7:9: subscribers get e-mail: add an [smtp] section"),
        "{stderr}"
    );
}

#[test]
fn check_config_into_a_closed_pipe_is_no_panic() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    let monitors: String = (0..2_000)
        .map(|i| format!("[[monitor]]\nid = \"site-{i}\"\nurl = \"http://127.0.0.1:9/{i}\"\n"))
        .collect();
    std::fs::write(&path, monitors).expect("config");
    // `signalfire check-config | head -0`: the reader is gone before the output is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["check-config", "--config"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

#[test]
fn a_short_admin_token_is_refused_with_the_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\n",
    )
    .expect("config");
    let run = |token: &str| {
        Command::new(env!("CARGO_BIN_EXE_signalfire"))
            .args(["check-config", "--config"])
            .arg(&path)
            .env("SIGNALFIRE_ADMIN_TOKEN", token)
            .output()
            .expect("run signalfire")
    };
    let short = run("a");
    assert_eq!(short.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(
        stderr.contains("SIGNALFIRE_ADMIN_TOKEN has only 1 character, too easy to guess")
            && stderr.contains("openssl rand -hex 32"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(" a\n") && !stderr.contains("\"a\""),
        "the token is not echoed"
    );
    let long = run("a-token-with-twenty-four-chars");
    assert_eq!(long.status.code(), Some(0));
}

#[test]
fn trusted_proxies_take_addresses_and_networks_and_name_a_bad_one() {
    let (code, _, stderr) = check_config(
        "[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\", \"proxy.local\"]\n\n\
         [[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\n",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("config.toml:2:")
            && stderr.contains("\"proxy.local\" is not an address or a network"),
        "{stderr}"
    );
}

/// `check-config` on `text` with environment variables set: exit code, stdout, stderr.
pub fn check_config_env(text: &str, env: &[(&str, &str)]) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["check-config", "--config"])
        .arg(&path)
        .envs(env.iter().copied())
        .output()
        .expect("run signalfire");
    let stderr =
        String::from_utf8_lossy(&out.stderr).replace(&path.display().to_string(), "config.toml");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        stderr,
    )
}

#[test]
fn a_duration_or_a_list_of_the_wrong_type_says_what_to_write() {
    let lines =
        problems("[[monitor]]\nid = \"blog\"\nurl = \"https://blog.example/\"\ninterval = 20\n");
    assert_eq!(
        lines,
        vec![
            "config.toml:4:12: interval: write a duration as a string, like \"20s\" (units: ms, s, m, h, d)"
        ]
    );
    let lines = problems(
        "[smtp]\nhost = \"smtp.example.net\"\nfrom = \"Status <s@example.com>\"\n\n\
         [[notify]]\nid = \"mail\"\nkind = \"email\"\nto = \"owner@example.com\"\n",
    );
    assert_eq!(
        lines,
        vec!["config.toml:8:6: to: write a list of addresses, like to = [\"owner@example.com\"]"]
    );
    // A check kind's own keys (read by the kind) and a section's keys go the same way.
    let lines = problems(
        "[[monitor]]\nid = \"job\"\nkind = \"heartbeat\"\ntoken = \"a-long-enough-token\"\ngrace = 3600\n",
    );
    assert_eq!(
        lines,
        vec![
            "config.toml:5:9: grace: write a duration as a string, like \"3600s\" (units: ms, s, m, h, d)"
        ]
    );
    let lines = problems("[retention]\nraw_checks = 7\n");
    assert_eq!(
        lines,
        vec![
            "config.toml:2:14: raw_checks: write a duration as a string, like \"7s\" (units: ms, s, m, h, d)"
        ]
    );
    let lines = problems("[server]\ntrusted_proxies = \"127.0.0.1\"\n");
    assert_eq!(
        lines,
        vec![
            "config.toml:2:19: trusted_proxies: write a list of addresses, like trusted_proxies = [\"127.0.0.1\"]"
        ]
    );
}

const HOOK: &str =
    "[[notify]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"https://example.net/hook\"\n";

#[test]
fn a_webhook_secret_that_is_not_a_standard_webhooks_secret_is_refused() {
    let lines = problems(&format!("{HOOK}secret = \"hunter2-but-longer\"\n"));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("config.toml:5:10: secret is not a Standard Webhooks secret")
            && lines[0].contains("whsec_")
            && lines[0].contains("openssl rand -base64 32"),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains("hunter2"), "the secret is not echoed");
    // whsec_ and then not base64.
    let lines = problems(&format!("{HOOK}secret = \"whsec_not base64!\"\n"));
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("config.toml:5:10: secret is not"),
        "{}",
        lines[0]
    );
    // From the environment: the variable is named, the value is not shown.
    let (code, _, stderr) = check_config_env(
        HOOK,
        &[("SIGNALFIRE_NOTIFY_HOOK_SECRET", "plain-secret-value")],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("SIGNALFIRE_NOTIFY_HOOK_SECRET is not a Standard Webhooks secret"),
        "{stderr}"
    );
    assert!(!stderr.contains("plain-secret-value"), "{stderr}");
    // The specification's example secret is fine, in the file or the environment.
    let good = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (code, _, stderr) = check_config(&format!("{HOOK}secret = \"{good}\"\n"));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = check_config_env(HOOK, &[("SIGNALFIRE_NOTIFY_HOOK_SECRET", good)]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn two_heartbeats_with_the_same_token_are_refused_at_the_second() {
    let text = "[[monitor]]\nid = \"backup\"\nkind = \"heartbeat\"\ntoken = \"the-same-long-token\"\ngrace = \"1h\"\n\n\
                [[monitor]]\nid = \"reports\"\nkind = \"heartbeat\"\ntoken = \"the-same-long-token\"\ngrace = \"1h\"\n";
    let lines = problems(text);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0]
            .starts_with("config.toml:10:9: token is already the token of heartbeat \"backup\""),
        "{}",
        lines[0]
    );
    // The same token given once in the clear and once as its SHA-256.
    let hashed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
        b"the-same-long-token",
    ));
    let text = format!(
        "[[monitor]]\nid = \"backup\"\nkind = \"heartbeat\"\ntoken = \"the-same-long-token\"\ngrace = \"1h\"\n\n\
         [[monitor]]\nid = \"reports\"\nkind = \"heartbeat\"\ntoken_sha256 = \"{hashed}\"\ngrace = \"1h\"\n"
    );
    let lines = problems(&text);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with(
            "config.toml:10:16: token_sha256 is already the token of heartbeat \"backup\""
        ),
        "{}",
        lines[0]
    );
}

/// `signalfire check-config` with `args`, off the async workers (the receivers keep running).
async fn check_config_args(text: String, args: &'static [&'static str]) -> (i32, String, String) {
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, text).expect("write config");
        let out = Command::new(env!("CARGO_BIN_EXE_signalfire"))
            .args(["check-config", "--config"])
            .arg(&path)
            .args(args)
            .output()
            .expect("run signalfire");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    })
    .await
    .expect("check-config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_lists_the_channels_and_try_sends_each_a_test_message() {
    use crate::receivers::{Receiver, Reply, SmtpSink};
    let sink = SmtpSink::start().await;
    let hook = Receiver::start(Reply::Status(204)).await;
    let broken = Receiver::start(Reply::Status(500)).await;
    let text = format!(
        "{}\n[[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\n\n\
         [[notify]]\nid = \"owner-mail\"\nkind = \"email\"\nto = [\"owner@test.example\"]\n\n\
         [[notify]]\nid = \"automation\"\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\nevents = [\"incident\"]\ncomponents = [\"blog\"]\n\n\
         [[notify]]\nid = \"chat\"\nkind = \"slack\"\nurl = \"{}\"\n",
        sink.config(),
        hook.url("/hook"),
        broken.url("/services/T0/B0/SECRETPATH"),
    );
    let (code, stdout, stderr) = check_config_args(text.clone(), &[]).await;
    assert_eq!(code, 0, "{stderr}");
    let line = |id: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no line for {id} in:\n{stdout}"))
            .to_string()
    };
    assert!(stdout.contains("3 notification channel(s):"), "{stdout}");
    let mail = line("owner-mail");
    assert!(
        mail.contains("email")
            && mail.contains("owner@test.example")
            && mail.contains("monitor, incident, maintenance, reminder")
            && mail.contains("every monitor"),
        "{mail}"
    );
    let automation = line("automation");
    assert!(
        automation.contains("webhook")
            && automation.contains("127.0.0.1")
            && automation.contains("incident;")
            && automation.contains("only blog"),
        "{automation}"
    );
    assert!(line("chat").contains("slack"), "{stdout}");
    assert!(
        !stdout.contains("SECRETPATH") && !stdout.contains("whsec_"),
        "no secret is shown:\n{stdout}"
    );
    assert!(
        hook.requests().is_empty() && sink.mails().is_empty(),
        "nothing sent without --try"
    );

    let (code, stdout, stderr) = check_config_args(text, &["--try"]).await;
    assert_eq!(code, 1, "a channel failed:\n{stdout}\n{stderr}");
    let tried = |id: &str| {
        stdout
            .lines()
            .filter(|l| l.trim_start().starts_with(&format!("{id} ")))
            .nth(1)
            .unwrap_or_else(|| panic!("no result for {id} in:\n{stdout}"))
            .to_string()
    };
    assert!(tried("owner-mail").contains("ok"), "{stdout}");
    assert!(
        tried("automation").contains("ok (HTTP 204 No Content)"),
        "{stdout}"
    );
    assert!(
        tried("chat").contains("failed: HTTP 500 Internal Server Error"),
        "{stdout}"
    );
    assert!(stderr.contains("1 of 3 channels failed"), "{stderr}");
    assert!(!stdout.contains("SECRETPATH"), "{stdout}");
    let mails = sink.wait_for("owner@test.example", 1).await;
    assert!(
        mails[0].subject().contains("Test"),
        "{}",
        mails[0].subject()
    );
    let posted = hook.wait_for("/hook", 1).await;
    assert!(posted[0].header("webhook-signature").is_some());
    assert_eq!(broken.requests().len(), 1);
}

#[test]
fn cron_monitors_are_listed_in_the_page_time_zone_or_their_own() {
    let (code, stdout, stderr) = check_config(
        "[page]\ntimezone = \"Asia/Tokyo\"\n\n\
         [[monitor]]\nid = \"a\"\nurl = \"https://a.example/\"\ncron = \"0 0 9 * * *\"\n\n\
         [[monitor]]\nid = \"b\"\nurl = \"https://b.example/\"\ncron = \"0 0 9 * * *\"\ntimezone = \"Europe/Berlin\"\n",
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("cron \"0 0 9 * * *\" in Asia/Tokyo"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cron \"0 0 9 * * *\" in Europe/Berlin"),
        "{stdout}"
    );
    // A time zone is for cron lines only.
    let lines = problems(
        "[[monitor]]\nid = \"a\"\nurl = \"https://a.example/\"\ninterval = \"1m\"\ntimezone = \"Asia/Tokyo\"\n",
    );
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(
        lines[0].starts_with("config.toml:5:12: timezone is for cron"),
        "{}",
        lines[0]
    );
}
