//! Nothing a client sends produces a 500 or a panic. Requests go out raw where a client
//! library would clean them (`..` segments), and a missing answer fails the test: a hang is
//! never a pass.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestApp, http_monitor, spawn_app};

/// How long an answer may take before the test fails (the server answers in milliseconds).
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// Sends `request` as bytes and returns the answer once complete (its head and
/// `Content-Length` bytes of body, or all until the server closes); panics when none comes.
async fn raw(app: &TestApp, request: &[u8]) -> String {
    let port = app.address.rsplit(':').next().expect("port").to_string();
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .expect("connect");
    let _ = stream.write_all(request).await;
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(ANSWER_WITHIN, stream.read(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no answer within 5 s to {:.40}",
                    String::from_utf8_lossy(request)
                )
            });
        match read {
            Ok(0) | Err(_) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
        }
        if complete(&reply) {
            break;
        }
    }
    String::from_utf8_lossy(&reply).into_owned()
}

/// True when `reply` holds a whole answer with a `Content-Length`.
fn complete(reply: &[u8]) -> bool {
    let Some(end) = reply.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&reply[..end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    length.is_some_and(|n| reply.len() >= end + 4 + n)
}

/// The status code of a raw answer.
fn status(answer: &str) -> u16 {
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:.80}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_requests_get_4xx_never_5xx() {
    let app = spawn_app(&http_monitor(
        "blog",
        "http://127.0.0.1:9/",
        "cron = \"0 0 0 1 1 *\"",
    ))
    .await;
    let paths = [
        "/%",
        "/%ff%fe",
        "/api/v2/../../etc/passwd",
        "/assets/../Cargo.toml",
        "/assets/..%2f..%2fCargo.toml",
        "/assets/",
        "/api/v2/",
        "/api/v2/status.xml",
        "/badge/..%2f..%2fetc.svg",
        "/components/../../etc/passwd/feed.rss",
        "/?q=<script>alert(1)</script>",
        "/incidents/%00",
        "/ünïcödé",
        &format!("/{}", "a".repeat(8_000)),
    ];
    for path in paths {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let answer = raw(&app, request.as_bytes()).await;
        let code = status(&answer);
        assert!(code < 500, "GET {path} -> {code}");
        assert!(
            !answer.contains("[package]") && !answer.contains("root:"),
            "GET {path} leaked a file"
        );
    }
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = app
            .client
            .request(method.clone(), format!("{}/", app.address))
            .body(vec![b'x'; 100_000])
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_client_error(),
            "{method} / -> {}",
            response.status()
        );
    }
    assert_eq!(app.get("/healthz").await.status(), 200, "still serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_http_is_answered_with_400_and_the_server_keeps_serving() {
    let app = spawn_app(&http_monitor(
        "blog",
        "http://127.0.0.1:9/",
        "cron = \"0 0 0 1 1 *\"",
    ))
    .await;
    for garbage in [
        "GARBAGE\r\n\r\n".to_string(),
        "GET / HTTP/9.9\r\n\r\n".to_string(),
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "b".repeat(100_000)
        ),
        "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n".to_string(),
    ] {
        let head = raw(&app, garbage.as_bytes()).await;
        assert!(!head.contains(" 500 "), "{garbage:.40} -> {head:.80}");
        assert!(
            status(&head) < 500,
            "{garbage:.40} is answered, without a server error"
        );
    }
    assert_eq!(app.get("/healthz").await.status(), 200, "still serving");
}
