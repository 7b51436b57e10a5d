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
    // Warm-up: whatever a reload needs once (lazy statics, the allocator's arenas) is counted,
    // and where a live application's figures lie: its reader connections (two files each) open
    // on demand, so one application holds a few more than another. The start is the highest
    // seen over five reloads.
    reload(&mut server).await;
    let mut start = footprint(server.pid());
    for _ in 0..5 {
        reload(&mut server).await;
        let now = footprint(server.pid());
        start = Footprint {
            files: start.files.max(now.files),
            threads: start.threads.max(now.threads),
            rss_kib: start.rss_kib.max(now.rss_kib),
        };
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_panics_is_logged_and_restarted_and_the_writer_stops_the_server() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, port) = config(dir.path(), MONITORS);
    // The renderer panics when it first starts: logged with its name, restarted, serving.
    let mut server = Server::start_with_env(&path, &[("SIGNALFIRE_TEST_PANIC_TASK", "renderer")]);
    let line = server.logged("background task renderer panicked", 1).await;
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("restarting it"), "{line}");
    let page = reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    // It is supervised again: a reload stops it and starts the next one.
    reload(&mut server).await;
    server.signal("TERM");
    assert_eq!(server.exited().await, Some(0));
    drop(server);

    // Without its writer nothing could be recorded: the server stops, exit code 1.
    let mut server = Server::start_with_env(&path, &[("SIGNALFIRE_TEST_PANIC_TASK", "writer")]);
    let line = server.logged("background task writer panicked", 1).await;
    assert!(
        line.contains("ERROR") && line.contains("stopping the server"),
        "{line}"
    );
    assert_eq!(server.exited().await, Some(1));
}
