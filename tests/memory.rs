//! A 1 GB body does not grow memory: the probe reads its cap and stops. Its own test binary,
//! so no other test's allocations blur the measurement.

use std::time::Duration;

use signalfire::config::Config;
use signalfire::domain::check::Verdict;
use signalfire::probe::Prober;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Serves one endless 1 GB response per connection.
async fn huge_site() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf).await;
                let size: u64 = 1 << 30;
                let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b'a'; 64 * 1024];
                let mut sent = 0;
                while sent < size {
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                    sent += chunk.len() as u64;
                }
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_gigabyte_body_is_read_up_to_the_cap_in_flat_memory() {
    signalfire::startup::install_crypto_provider();
    let port = huge_site().await;
    let text = format!(
        "[[monitor]]\nid = \"huge\"\nurl = \"http://127.0.0.1:{port}/\"\ninterval = \"30s\"\ntimeout = \"10s\"\nexpect_body = \"never-there\"\n"
    );
    let config =
        Config::parse(&text, std::path::Path::new("memory.toml"), &|_| None).expect("config");
    let spec = config.monitors[0].clone();
    let probe = spec.probe().expect("an http monitor");
    let prober = Prober::new([probe]).expect("prober");
    let check = || prober.check(probe, spec.timeout, spec.degraded_after);
    // Warm up allocator and client once, then measure.
    let _ = check().await;
    let before = rss_bytes();
    let started = std::time::Instant::now();
    let mut results = Vec::new();
    for _ in 0..5 {
        results.push(check().await);
    }
    let elapsed = started.elapsed();
    let growth = rss_bytes().saturating_sub(before);
    for r in &results {
        assert_eq!(r.verdict, Verdict::Down);
        assert_eq!(
            r.reason.as_deref(),
            Some("keyword \"never-there\" not found"),
            "judged on the first MiB"
        );
        assert!(
            r.elapsed < Duration::from_secs(10),
            "within the timeout: {:?}",
            r.elapsed
        );
    }
    assert!(elapsed < Duration::from_secs(50));
    assert!(
        growth < 10 * 1024 * 1024,
        "RSS grew by {} KiB",
        growth / 1024
    );
}
