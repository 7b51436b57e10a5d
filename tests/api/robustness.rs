//! Nothing a client sends produces a 500 or a panic.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{http_monitor, spawn_app};

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
        "/assets/",
        "/api/v2/",
        "/api/v2/status.xml",
        "/badge/..%2f..%2fetc.svg",
        "/?q=<script>alert(1)</script>",
        "/incidents/%00",
        "/ünïcödé",
        &format!("/{}", "a".repeat(8_000)),
    ];
    for path in paths {
        let response = app
            .client
            .get(format!("{}{path}", app.address))
            .send()
            .await
            .expect("request");
        assert!(
            response.status().as_u16() < 500,
            "GET {path} -> {}",
            response.status()
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
    let port = app.address.rsplit(':').next().expect("port").to_string();
    for garbage in [
        "GARBAGE\r\n\r\n".to_string(),
        "GET / HTTP/9.9\r\n\r\n".to_string(),
        format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "b".repeat(100_000)
        ),
        "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n".to_string(),
    ] {
        let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .expect("connect");
        let _ = stream.write_all(garbage.as_bytes()).await;
        let mut reply = vec![0u8; 64];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut reply))
            .await
            .unwrap_or(Ok(0))
            .unwrap_or(0);
        let head = String::from_utf8_lossy(&reply[..n]);
        assert!(!head.contains(" 500 "), "{garbage:.40} -> {head}");
    }
    assert_eq!(app.get("/healthz").await.status(), 200, "still serving");
}
