//! Held under attack: what strangers control is bounded, and refusals are clear and logged.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{
    Behavior, FakeSite, TEST_BODY_DEADLINE, TEST_WRITE_DEADLINE, TestApp, connect_from, connect_to,
    http_monitor, pipeline_until_stuck, spawn_app, spawn_app_server,
};
use crate::process::{Server, config};

const BLOG: &str =
    "[[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\ncron = \"0 0 0 1 1 *\"\n";

/// Sends `request` on a fresh connection and reads until the server closes it (bounded by ten
/// body deadlines, so a failure never hangs).
async fn exchange(app: &TestApp, request: &[u8]) -> String {
    let mut stream = connect_from([127, 0, 0, 1], app).await;
    stream.write_all(request).await.expect("request");
    read_until_closed(&mut stream, TEST_BODY_DEADLINE * 10).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_wrong_tokens_are_throttled_and_logged_without_flooding_the_log() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, port) = config(dir.path(), BLOG);
    let mut server = Server::start(&path);
    server.logged("serving", 1).await;
    let client = reqwest::Client::new();
    let (mut unauthorized, mut throttled) = (0, 0);
    for n in 0..1_000 {
        let response = client
            .get(format!("http://127.0.0.1:{port}/api/admin/subscribers"))
            .bearer_auth(format!("guess-{n}"))
            .send()
            .await
            .expect("request");
        match response.status().as_u16() {
            401 => unauthorized += 1,
            429 => throttled += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((unauthorized, throttled), (10, 990));
    // The owner is not locked out by strangers guessing from the same address.
    let right = client
        .get(format!("http://127.0.0.1:{port}/api/admin/subscribers"))
        .bearer_auth(crate::helpers::ADMIN_TOKEN)
        .send()
        .await
        .expect("request");
    assert_eq!(right.status(), 200);
    server
        .logged("too many wrong tokens; refusing this client", 1)
        .await;
    let lines = server.lines_now();
    let wrong = lines
        .iter()
        .filter(|l| l.contains("admin API: wrong token"))
        .count();
    assert!(
        wrong <= 10,
        "one line per checked token, not per request: {wrong}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("guess-")),
        "tokens are never logged"
    );
}

const NEVER: &str = "cron = \"0 0 0 1 1 *\"\n";

/// Reads until the server closes (or `limit` bytes); fails the test after `within`.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, within: Duration) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(within, read)
        .await
        .expect("the server closed the connection in time");
    String::from_utf8_lossy(&seen).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_at_a_time_is_cut_off_at_its_deadline() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    // The test server's body deadline is 1 s; the bound here only keeps a failure from hanging.
    let head = b"POST /admin/login HTTP/1.1\r\nHost: x\r\n\
        Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nu";
    let answer = exchange(&app, head).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within"), "{answer}");

    let mut api = connect_from([127, 0, 0, 1], &app).await;
    api.write_all(
        format!(
            "POST /api/admin/incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
            crate::helpers::ADMIN_TOKEN
        )
        .as_bytes(),
    )
    .await
    .expect("head");
    let answer = read_until_closed(&mut api, TEST_BODY_DEADLINE * 10).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("application/json"),
        "JSON under /api: {answer}"
    );
}

/// Sends `GET /healthz` on a kept-alive connection and reads its answer (head and body).
async fn one_answer(stream: &mut tokio::net::TcpStream) -> String {
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("request");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let text = String::from_utf8_lossy(&seen).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .and_then(|n| n.trim().parse::<usize>().ok())
                    })
                    .unwrap_or(0);
                if body.len() >= length {
                    return text;
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return String::from_utf8_lossy(&seen).to_string(),
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_connection() {
    let app = spawn_app_server(
        "max_connections_per_client = 4\n",
        &http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    )
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        // An answer on each proves it was counted before the next one opens.
        let mut stream = connect_from([127, 0, 0, 7], &app).await;
        let answer = one_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        held.push(stream);
    }
    let mut fifth = connect_from([127, 0, 0, 7], &app).await;
    let refusal = read_until_closed(&mut fifth, Duration::from_secs(10)).await;
    assert!(refusal.starts_with("HTTP/1.1 429"), "{refusal}");
    // Everyone else still gets the page.
    let mut other = connect_from([127, 0, 0, 8], &app).await;
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let answer = read_until_closed(&mut other, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A closed connection gives its place back.
    drop(held.pop());
    let mut again = connect_from([127, 0, 0, 7], &app).await;
    let mut tries = 0;
    let text = loop {
        tries += 1;
        assert!(
            tries < 1_000,
            "the closed connection's place never came back"
        );
        again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("request");
        let text = read_until_closed(&mut again, Duration::from_secs(10)).await;
        // The close may not have been seen yet by the server: one more try then.
        if text.starts_with("HTTP/1.1 429") {
            again = connect_from([127, 0, 0, 7], &app).await;
            continue;
        }
        break text;
    };
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_reads_its_answers_is_dropped() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("small window");
    let port: u16 = app
        .address
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let stream = socket
        .connect(([127, 0, 0, 1], port).into())
        .await
        .expect("connect");
    let request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(64);
    let started = std::time::Instant::now();
    // Keep asking and never read: the server's answers pile up until it gives up on us.
    let mut dropped = false;
    while !dropped && started.elapsed() < TEST_WRITE_DEADLINE * 15 {
        let ready = tokio::time::timeout(
            TEST_WRITE_DEADLINE,
            stream.ready(tokio::io::Interest::WRITABLE | tokio::io::Interest::ERROR),
        )
        .await;
        match ready {
            // Our own buffers are full too: look again.
            Err(_) => {}
            Ok(Err(_)) => dropped = true,
            Ok(Ok(r)) if r.is_error() || r.is_write_closed() => dropped = true,
            Ok(Ok(_)) => match stream.try_write(&request) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => dropped = true,
            },
        }
    }
    assert!(
        dropped,
        "the connection was still open after {:?}",
        started.elapsed()
    );
    // And the page still answers.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// Bytes of the database in use (pages minus free pages), after a checkpoint.
async fn database_bytes(app: &TestApp) -> i64 {
    app.state
        .writer
        .run(|tx| {
            Ok(tx.query_row(
                "SELECT (SELECT page_count FROM pragma_page_count()) - \
                        (SELECT freelist_count FROM pragma_freelist_count())",
                [],
                |r| r.get::<_, i64>(0),
            )? * tx.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))?)
        })
        .await
        .expect("size")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_thousand_pings_add_less_than_a_mebibyte() {
    let token = "nightly-stats-job-token-7f3a";
    let app = spawn_app(&format!(
        "[[monitor]]\nid = \"stats\"\nkind = \"heartbeat\"\ntoken = \"{token}\"\ngrace = \"1h\"\n"
    ))
    .await;
    assert_eq!(app.get(&format!("/ping/{token}")).await.status(), 200);
    let before = database_bytes(&app).await;
    let url = format!("{}/ping/{token}", app.address);
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (app.client.clone(), url.clone());
            tokio::spawn(async move {
                let (mut ok, mut limited) = (0u32, 0u32);
                for _ in 0..100_000 / 16 {
                    match client
                        .get(&url)
                        .send()
                        .await
                        .expect("ping")
                        .status()
                        .as_u16()
                    {
                        200 => ok += 1,
                        429 => limited += 1,
                        other => panic!("unexpected {other}"),
                    }
                }
                (ok, limited)
            })
        })
        .collect();
    let (mut ok, mut limited) = (0, 0);
    for worker in workers {
        let (o, l) = worker.await.expect("worker");
        ok += o;
        limited += l;
    }
    let grown = database_bytes(&app).await - before;
    eprintln!("100,000 pings: {ok} taken, {limited} refused, the database grew {grown} bytes");
    assert!(grown < 1024 * 1024, "the database grew {grown} bytes");
    assert!(
        (59..=60).contains(&ok),
        "at most 60 a minute are taken: {ok}"
    );
    assert!(limited > 99_000, "{limited}");
    let checks: i64 = app
        .state
        .db
        .read(|c| Ok(c.query_row("SELECT count(*) FROM checks", [], |r| r.get(0))?))
        .await
        .expect("count");
    assert!(checks <= 2, "routine pings are not one row each: {checks}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_browser_policies_and_public_reads_allow_any_origin() {
    let app = spawn_app_server(
        "base_url = \"https://status.example.com\"\n",
        &http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    )
    .await;
    let page = app.get("/").await;
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert!(header(&page, "permissions-policy").is_some_and(|p| p.contains("camera=()")));
    assert_eq!(
        header(&page, "cross-origin-opener-policy").as_deref(),
        Some("same-origin")
    );
    assert_eq!(
        header(&page, "cross-origin-resource-policy").as_deref(),
        Some("same-origin")
    );
    assert_eq!(
        header(&page, "strict-transport-security").as_deref(),
        Some("max-age=31536000")
    );
    assert_eq!(header(&page, "access-control-allow-origin"), None);
    for path in ["/api/v2/summary.json", "/feed.atom", "/badge/blog.svg"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "access-control-allow-origin").as_deref(),
            Some("*"),
            "{path}"
        );
        assert_eq!(
            header(&response, "cross-origin-resource-policy").as_deref(),
            Some("cross-origin"),
            "{path}"
        );
    }
    let plain = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let response = plain.get("/").await;
    assert_eq!(
        header(&response, "strict-transport-security"),
        None,
        "http: no HSTS"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_under_way_at_sigterm_is_written_before_the_process_exits() {
    let site = FakeSite::start(Behavior::Slow(Duration::from_millis(1_500), "ok".into())).await;
    let dir = tempfile::tempdir().expect("dir");
    let (path, _) = config(
        dir.path(),
        &format!(
            "[[monitor]]\nid = \"blog\"\nurl = \"{}\"\ninterval = \"1h\"\n",
            site.url()
        ),
    );
    let mut server = Server::start(&path);
    server.logged("serving", 1).await;
    // The first check starts at once; the site takes 1.5 s to answer.
    tokio::time::timeout(Duration::from_secs(20), async {
        while site.hits.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the check reached the site");
    server.signal("TERM");
    assert_eq!(server.exited().await, Some(0));
    let db = rusqlite::Connection::open(dir.path().join("data/signalfire.db")).expect("db");
    let checks: i64 = db
        .query_row("SELECT count(*) FROM checks", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        checks, 1,
        "the result that arrived during shutdown was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_changes_and_removes_monitors_and_a_broken_config_changes_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let monitor = |id: &str, path: &str| {
        format!(
            "[[monitor]]\nid = \"{id}\"\nurl = \"http://127.0.0.1:9/{path}\"\ninterval = \"1h\"\n"
        )
    };
    let (path, port) = config(
        dir.path(),
        &[monitor("blog", "a"), monitor("shop", "a")].concat(),
    );
    let mut server = Server::start(&path);
    server.logged("serving", 1).await;
    let components = |port: u16| async move {
        let body: serde_json::Value =
            reqwest::get(format!("http://127.0.0.1:{port}/api/v2/components.json"))
                .await
                .expect("components")
                .json()
                .await
                .expect("json");
        body["components"]
            .as_array()
            .expect("list")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(components(port).await, vec!["blog", "shop"]);

    // shop removed, blog changed, mail added.
    let text = std::fs::read_to_string(&path).expect("config");
    let server_section = text.split("[[monitor]]").next().expect("head").to_string();
    std::fs::write(
        &path,
        format!(
            "{server_section}{}{}",
            monitor("blog", "b"),
            "[[monitor]]\nid = \"mail\"\nkind = \"tcp\"\nhost = \"127.0.0.1\"\nport = 9\ninterval = \"1h\"\n"
        ),
    )
    .expect("new config");
    server.signal("HUP");
    let line = server.logged("reloading the config", 1).await;
    assert!(
        line.contains("added=1") && line.contains("changed=1") && line.contains("removed=1"),
        "{line}"
    );
    server.logged("reloaded", 1).await;
    assert_eq!(components(port).await, vec!["blog", "mail"]);

    // A broken config: refused with its place, and everything stays.
    std::fs::write(
        &path,
        format!("{server_section}[[monitor]]\nid = \"blog\"\nkind = \"carrier-pigeon\"\n"),
    )
    .expect("broken config");
    let reload = std::process::Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["reload", "--config"])
        .arg(&path)
        .output()
        .expect("signalfire reload");
    // The broken file is refused by `reload` itself before it signals anything.
    assert_eq!(reload.status.code(), Some(2));
    server.signal("HUP");
    let refused = server.logged("reload refused", 1).await;
    assert!(refused.contains("config.toml:"), "{refused}");
    assert!(refused.contains("carrier-pigeon"), "{refused}");
    assert_eq!(components(port).await, vec!["blog", "mail"]);

    // `signalfire reload` signals the server through its pid file.
    std::fs::write(&path, format!("{server_section}{}", monitor("blog", "c"))).expect("config");
    let reload = std::process::Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["reload", "--config"])
        .arg(&path)
        .output()
        .expect("signalfire reload");
    assert_eq!(reload.status.code(), Some(0), "{reload:?}");
    server.logged("reloaded", 1).await;
    assert_eq!(components(port).await, vec!["blog"]);
}

fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_failed_logins_from_forty_addresses_leave_no_memory_behind() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, port) = config(
        dir.path(),
        &format!(
            "[admin]\nusername = \"owner\"\npassword_hash = \"{}\"\n\n{BLOG}",
            crate::helpers::password_hash()
        ),
    );
    // The test speaks as a proxy for forty clients.
    let text = std::fs::read_to_string(&path).expect("config");
    std::fs::write(
        &path,
        text.replacen(
            "data_dir = \"data\"\n",
            "data_dir = \"data\"\ntrusted_proxies = [\"127.0.0.1\"]\n",
            1,
        ),
    )
    .expect("config");
    let mut server = Server::start(&path);
    server.logged("serving", 1).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let form = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .expect("login form");
    let cookie = form
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("cookie")
        .to_string();
    let csrf = crate::browser::csrf(&form.text().await.expect("form"));
    let attempt = |client: reqwest::Client, ip: String| {
        let (base, cookie, csrf) = (base.clone(), cookie.clone(), csrf.clone());
        async move {
            client
                .post(format!("{base}/admin/login"))
                .header("Cookie", cookie)
                .header("X-Forwarded-For", ip)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(
                    serde_urlencoded::to_string([
                        ("csrf", csrf.as_str()),
                        ("username", "owner"),
                        ("password", "wrong"),
                    ])
                    .expect("form"),
                )
                .send()
                .await
                .expect("login")
                .status()
                .as_u16()
        }
    };
    // Resting: after one failed login, so whatever a login needs once is counted.
    assert_eq!(attempt(client.clone(), "192.0.2.250".into()).await, 401);
    let resting = rss_of(server.pid());
    // Eight at a time: the queue of password checks holds eight (more would be shed with 503,
    // and this test is about the memory of checks).
    for wave in 0..25 {
        let attempts: Vec<_> = (0..8)
            .map(|i| {
                let ip = format!("192.0.2.{}", (wave * 8 + i) % 40);
                tokio::spawn(attempt(client.clone(), ip))
            })
            .collect();
        for a in attempts {
            assert_eq!(
                a.await.expect("attempt"),
                401,
                "five per address fit the limit"
            );
        }
    }
    let after = rss_of(server.pid());
    let grown = after.saturating_sub(resting);
    eprintln!("RSS resting {resting} B, after 200 failed logins {after} B");
    assert!(
        grown < 10 * 1024 * 1024,
        "RSS {} MiB → {} MiB",
        resting / (1024 * 1024),
        after / (1024 * 1024)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_pipelined_requests_are_all_answered_in_order() {
    let app = spawn_app(&http_monitor("blog", "http://127.0.0.1:9/", NEVER)).await;
    let mut stream = connect_from([127, 0, 0, 1], &app).await;
    let mut requests = String::new();
    for n in 0..40 {
        requests.push_str(&format!("GET /healthz?n={n} HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    requests.push_str("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream
        .write_all(requests.as_bytes())
        .await
        .expect("requests");
    let answers = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    assert_eq!(answers.matches("HTTP/1.1 200").count(), 41, "{answers}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_chunked_body_nobody_reads_ends_its_connection_with_the_answer() {
    let token = "nightly-stats-job-token-7f3a";
    let app = spawn_app(&format!(
        "[[monitor]]\nid = \"stats\"\nkind = \"heartbeat\"\ntoken = \"{token}\"\ngrace = \"1h\"\n"
    ))
    .await;
    // Without a token the owner API answers before reading the body; this one never ends.
    let never_ends = b"POST /api/admin/deliveries/1/retry HTTP/1.1\r\nHost: x\r\n\
        Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
    let answer = exchange(&app, never_ends).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );

    // A ping reads its body (a job's log) within the body deadline: one that never ends is
    // cut off there; the ping counts (its signal is in the path) with what came of the body,
    // and the connection ends with the answer.
    let ping = format!(
        "POST /ping/{token} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    );
    let answer = exchange(&app, ping.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    app.settle().await;
    let row = app.state.roster.get("stats").expect("monitor").row;
    let stored = app
        .state
        .db
        .read(move |c| Ok(signalfire::db::pings::recent(c, row, 5)?))
        .await
        .expect("pings");
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].body.as_deref(), Some("hello"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_per_data_dir_and_reload_never_signals_a_stale_pid() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, _) = config(dir.path(), BLOG);
    let mut first = Server::start(&path);
    first.logged("serving", 1).await;
    // A second server on the same data directory (another port) is refused.
    let other = dir.path().join("other.toml");
    let text = std::fs::read_to_string(&path).expect("config");
    let port = crate::process::free_port();
    std::fs::write(
        &other,
        text.replacen(
            "listen = \"127.0.0.1:",
            &format!("listen = \"127.0.0.1:{port}\"\n#"),
            1,
        ),
    )
    .expect("config");
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["serve", "--config"])
        .arg(&other)
        .output()
        .expect("second server");
    assert_eq!(second.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("another signalfire"),
        "{second:?}"
    );
    // Killed: the pid file stays, but names nobody who holds it.
    first.kill();
    let reload = std::process::Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["reload", "--config"])
        .arg(&path)
        .output()
        .expect("reload");
    assert_eq!(reload.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&reload.stderr).contains("no signalfire is running"),
        "{reload:?}"
    );
}

/// The real binary, so its own allocator: the buffers of 600 pipelining clients that never read
/// go back to the system once the clients leave. glibc's malloc kept them in its arenas (RSS
/// stayed at the peak, the figure "falls back within 2x of the start a minute after" NOT met).
/// mimalloc returned them (RSS back in 0.2 s), but its RSS grew ~10 % over 100 reloads, which
/// the reload test refuses: until an allocator passes both, this goal is open (issue 19).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "fails on glibc's malloc: freed connection memory is kept (issue 19, open)"]
async fn memory_held_by_pipelining_clients_is_given_back_when_they_leave() {
    let dir = tempfile::tempdir().expect("dir");
    let (path, port) = config(dir.path(), BLOG);
    let mut server = Server::start(&path);
    server.logged("serving", 1).await;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let healthz = |client: reqwest::Client| {
        let url = format!("{base}/healthz");
        async move { client.get(url).send().await.expect("healthz").status() }
    };
    assert_eq!(healthz(client.clone()).await, 200);
    let resting = rss_of(server.pid());
    const CLIENTS: usize = 600;
    let mut floods = Vec::new();
    for i in 0..CLIENTS {
        // 60 from each of ten addresses: under the 64 per client.
        let stream = connect_to(port, [127, 0, 2, 10 + (i / 60) as u8]).await;
        floods.push(tokio::spawn(pipeline_until_stuck(stream)));
    }
    let mut held = Vec::new();
    for f in floods {
        held.push(f.await.expect("flood").0);
    }
    let peak = rss_of(server.pid());
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    assert!(
        peak > 2 * resting,
        "the flood took RSS only from {:.1} to {:.1} MiB: nothing to give back",
        mib(resting),
        mib(peak)
    );
    drop(held);
    // Given back within seconds (the figure allows a minute); the page keeps being asked for,
    // as on a live server.
    let left = std::time::Instant::now();
    loop {
        let now = rss_of(server.pid());
        if now <= 2 * resting {
            eprintln!(
                "RSS resting {:.1} MiB, peak {:.1} MiB, {:.1} MiB {:?} after the clients left",
                mib(resting),
                mib(peak),
                mib(now),
                left.elapsed()
            );
            break;
        }
        assert!(
            left.elapsed() < crate::process::WITHIN,
            "RSS resting {:.1} MiB, peak {:.1} MiB, still {:.1} MiB {:?} after the clients left \
             ({} open files)",
            mib(resting),
            mib(peak),
            mib(now),
            left.elapsed(),
            std::fs::read_dir(format!("/proc/{}/fd", server.pid())).map_or(0, Iterator::count)
        );
        let asked: Vec<_> = (0..8)
            .map(|_| tokio::spawn(healthz(client.clone())))
            .collect();
        for a in asked {
            assert_eq!(a.await.expect("healthz"), 200);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_addresses_cannot_take_the_connections_the_page_needs() {
    // 40 connections in all: five addresses with eight kept-alive connections each would take
    // every one, and a visitor's connection would wait in the listen queue until one of them
    // idled out.
    let app = spawn_app_server(
        "max_connections = 40\n",
        &http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    )
    .await;
    let mut held = Vec::new();
    let mut refused = 0;
    for address in 0..5u8 {
        for _ in 0..8 {
            let mut stream = connect_from([127, 0, 3, 1 + address], &app).await;
            let answer = one_answer(&mut stream).await;
            if answer.starts_with("HTTP/1.1 200") {
                held.push(stream);
            } else {
                assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
                refused += 1;
            }
        }
    }
    assert!(
        refused > 0,
        "the heavy addresses took all {} connections",
        held.len()
    );
    // A visitor from an address of its own is answered at once: before any of the flood's
    // connections idles out (each still answers afterwards).
    let mut visitor = connect_from([127, 0, 0, 1], &app).await;
    visitor
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let page = read_until_closed(&mut visitor, Duration::from_secs(10)).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    for stream in &mut held {
        let answer = one_answer(stream).await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "a held connection closed before the visitor was answered: {answer}"
        );
    }
}

/// The value of the `name` cookie set by `response`, if it sets one.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_owners_device_logs_in_while_strangers_fill_the_login_queue() {
    use futures_util::StreamExt;
    // The test speaks as a proxy for the strangers and the owner.
    let app = spawn_app_server(
        "trusted_proxies = [\"127.0.0.1\"]\n",
        &http_monitor("blog", "http://127.0.0.1:9/", NEVER),
    )
    .await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let base = app.address.clone();
    let form = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .expect("login form");
    let login_cookie = set_cookie(&form, "signalfire_login").expect("login cookie");
    let csrf = crate::browser::csrf(&form.text().await.expect("form"));
    let post = |ip: String, password: &'static str, device: Option<String>| {
        let (client, base, csrf) = (client.clone(), base.clone(), csrf.clone());
        let mut cookies = format!("signalfire_login={login_cookie}");
        if let Some(device) = device {
            cookies.push_str(&format!("; signalfire_device={device}"));
        }
        async move {
            client
                .post(format!("{base}/admin/login"))
                .header("Cookie", cookies)
                .header("X-Forwarded-For", ip)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(
                    serde_urlencoded::to_string([
                        ("csrf", csrf.as_str()),
                        ("username", "owner"),
                        ("password", password),
                    ])
                    .expect("form"),
                )
                .send()
                .await
                .expect("login")
        }
    };
    // The owner logged in from this device before: it is remembered.
    let first = post("198.51.100.7".into(), crate::helpers::ADMIN_PASSWORD, None).await;
    assert_eq!(first.status(), 303);
    let device = set_cookie(&first, "signalfire_device").expect("a device cookie");

    // Strangers from 60 addresses at once: more than the queue of password checks holds.
    let mut strangers: futures_util::stream::FuturesUnordered<_> = (0..60)
        .map(|i| post(format!("192.0.2.{i}"), "wrong", None))
        .collect();
    let mut shed = 0;
    let mut checked = 0;
    while shed == 0 {
        let Some(answer) = strangers.next().await else {
            panic!("all {checked} strangers' attempts were queued and checked; none was shed");
        };
        match answer.status().as_u16() {
            503 => {
                assert!(answer.headers().contains_key("retry-after"), "{answer:?}");
                shed += 1;
            }
            status => {
                assert_eq!(status, 401);
                checked += 1;
            }
        }
    }
    // The queue is full now; the owner's device has a lane of its own.
    let owner = post(
        "198.51.100.7".into(),
        crate::helpers::ADMIN_PASSWORD,
        Some(device),
    )
    .await;
    assert_eq!(owner.status(), 303, "the owner is let in");
    assert!(set_cookie(&owner, "signalfire_session").is_some());
    while let Some(answer) = strangers.next().await {
        let status = answer.status().as_u16();
        assert!(status == 401 || status == 503, "{status}");
    }
}
