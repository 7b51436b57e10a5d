//! Pipelining clients that never read hold little memory each. Measured on the process-wide
//! count of connection buffers, so alone in its own test binary: another test's connections in
//! the same process would count too (in tests/resilience it failed under a parallel load).

#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use helpers::{connect_from, http_monitor, pipeline_until_stuck, spawn_app};

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelining_clients_that_never_read_hold_little_memory_each() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    const CLIENTS: usize = 20;
    let before = signalfire::routes::connections::buffered_bytes();
    let mut floods = Vec::new();
    for i in 0..CLIENTS {
        let stream = connect_from([127, 0, 1, 10 + i as u8], &app).await;
        floods.push(tokio::spawn(pipeline_until_stuck(stream)));
    }
    let mut peak = 0;
    let mut held = Vec::new();
    for f in floods {
        let (stream, p) = f.await.expect("flood");
        peak = peak.max(p);
        held.push(stream);
    }
    peak = peak.max(signalfire::routes::connections::buffered_bytes());
    let each = peak.saturating_sub(before) / CLIENTS;
    eprintln!("connection buffers: {before} B before, peak {peak} B, {each} B per client");
    // Reading stops at 8 KiB of pipelined requests (plus one read), the write buffer at the
    // 16 KiB of answers that made reading stop (plus one answer): the unpatched dispatcher held
    // ~300 KB (a 250 KB read buffer filled to its 128 KiB limit, ~50 KB of answers).
    assert!(
        each < 48 * 1024,
        "{each} B of buffers per pipelining client that never reads"
    );
    drop(held);
    assert_eq!(app.get("/healthz").await.status(), 200);
}
