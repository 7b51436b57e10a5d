//! Reloads on the real binary: every SIGHUP replaces the whole application and drops the old
//! one (no task of it lives on), and a background task that panics is logged and restarted
//! or stops the server — never silently gone.

use std::time::Duration;

use crate::process::{Server, config};

/// What a leak shows in: open files, threads, resident memory.
#[derive(Debug, Clone, Copy)]
struct Footprint {
    files: u64,
    threads: u64,
    rss_kib: u64,
}

fn footprint(pid: u32) -> Footprint {
    let files = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("/proc/pid/fd")
        .count() as u64;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    Footprint {
        files,
        threads: field("Threads:"),
        rss_kib: field("VmRSS:"),
    }
}

/// True when every figure of `now` is within 10 % of `start` (or one more thread or file:
/// 10 % of a handful rounds to nothing).
fn within_ten_percent(start: Footprint, now: Footprint) -> bool {
    let near = |a: u64, b: u64| b <= a + (a / 10).max(1);
    near(start.files, now.files)
        && near(start.threads, now.threads)
        && near(start.rss_kib, now.rss_kib)
}

const MONITORS: &str = "[[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\ninterval = \"1h\"\n\n\
     [[monitor]]\nid = \"nightly\"\nkind = \"heartbeat\"\ntoken = \"nightly-token-000000001\"\nperiod = \"1d\"\ngrace = \"1h\"\n";

/// Sends SIGHUP and waits until the new application says it is live.
async fn reload(server: &mut Server) {
    server.signal("HUP");
    server.logged("reloaded", 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_reloads_leave_files_threads_and_memory_where_they_were() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, _port) = config(dir.path(), MONITORS);
    let mut server = Server::start(&path);
    server.logged("serving", 1).await;
    // Warm-up: whatever a reload needs once (lazy statics, the allocator's arenas) is counted.
    for _ in 0..3 {
        reload(&mut server).await;
    }
    let start = footprint(server.pid());
    for _ in 0..100 {
        reload(&mut server).await;
    }
    // Idle threads of the blocking pool end after 10 s: the figures may take that long to
    // come back, and fail the test when they do not within 20 s.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut end = footprint(server.pid());
    while !within_ten_percent(start, end) && tokio::time::Instant::now() < deadline {
        let _ = server.lines_now();
        tokio::time::sleep(Duration::from_millis(250)).await;
        end = footprint(server.pid());
    }
    eprintln!("after the warm-up: {start:?}; after 100 more reloads: {end:?}");
    assert!(
        within_ten_percent(start, end),
        "100 reloads: open files {} → {}, threads {} → {}, RSS {} → {} KiB",
        start.files,
        end.files,
        start.threads,
        end.threads,
        start.rss_kib,
        end.rss_kib
    );
}
