//! The real binary, killed with SIGKILL while notifications wait: nothing is lost, and no
//! delivery succeeds twice except at most one per kill.

use serde_json::json;

use crate::helpers::ADMIN_TOKEN;
use crate::process::{Server, WITHIN, free_port};
use crate::receivers::{Receiver, Reply};

/// The incident names in the database at `path`, after SQLite's integrity check passed.
fn incident_names(path: &std::path::Path) -> std::collections::HashSet<String> {
    let db = rusqlite::Connection::open(path).expect("the database opens");
    let check: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    db.prepare("SELECT name FROM incidents")
        .expect("query")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("names")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_deliveries_survive_a_sigkill_and_arrive_once_each() {
    signalfire::startup::install_crypto_provider();
    let dir = tempfile::tempdir().expect("dir");
    let (app_port, hook_port) = (free_port(), free_port());
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:{app_port}\"\ndata_dir = \"data\"\n\n\
             [[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\ncron = \"0 0 0 1 1 *\"\n\n\
             [[notify]]\nid = \"hooks\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{hook_port}/hook\"\nevents = [\"incident\"]\n"
        ),
    )
    .expect("config");
    let mut server = Server::start(&config);
    server.logged("serving", 1).await;
    let client = reqwest::Client::builder()
        .timeout(WITHIN)
        .build()
        .expect("client");
    for n in 0..20 {
        let response = client
            .post(format!("http://127.0.0.1:{app_port}/api/admin/incidents"))
            .bearer_auth(ADMIN_TOKEN)
            .json(
                &json!({"name": format!("Incident {n}"), "components": {"blog": "partial_outage"}}),
            )
            .send()
            .await
            .expect("open an incident");
        assert_eq!(response.status(), 201);
    }
    // The receiver is down: every delivery fails once and waits for its retry.
    server.logged("a notification was not delivered", 20).await;
    server.kill();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", hook_port))
        .await
        .expect("the receiver's port");
    let receiver = Receiver::on(listener, Reply::Status(200));
    let mut server = Server::start(&config);
    server.logged("serving", 1).await;
    let requests = receiver.wait_for_within("/hook", 20, WITHIN).await;
    let mut ids: Vec<&str> = requests
        .iter()
        .map(|r| r.header("webhook-id").expect("webhook-id"))
        .collect();
    ids.sort_unstable();
    let total = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), 20, "every delivery arrives");
    assert!(
        total - 20 <= 1,
        "no delivery succeeds twice but at most one per kill"
    );
}

/// Posts incidents named `{prefix}-{n}` until a request fails; the names acknowledged (201).
async fn write_until_killed(
    port: u16,
    prefix: String,
    acked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    arrived: std::sync::Arc<tokio::sync::Notify>,
) {
    let client = reqwest::Client::builder()
        .timeout(WITHIN)
        .build()
        .expect("client");
    for n in 0.. {
        let name = format!("{prefix}-{n}");
        let response = client
            .post(format!("http://127.0.0.1:{port}/api/admin/incidents"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"name": name, "body": "written before the kill?"}))
            .send()
            .await;
        match response {
            Ok(r) if r.status() == 201 => {
                acked.lock().expect("lock").push(name);
                arrived.notify_waiters();
            }
            _ => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_sigkills_while_clients_write_lose_no_acknowledged_write() {
    let dir = tempfile::tempdir().expect("dir");
    let (config, port) = crate::process::config(
        dir.path(),
        "[[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\ncron = \"0 0 0 1 1 *\"\n",
    );
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    // A fixed xorshift: the kill moments vary from round to round, the same on every run.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for round in 0..20 {
        let mut server = Server::start(&config);
        server.logged("serving", 1).await;
        let arrived = std::sync::Arc::new(tokio::sync::Notify::new());
        let before = acked.lock().expect("lock").len();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = before + 3 + (seed % 40) as usize;
        let writers: Vec<_> = (0..4)
            .map(|w| {
                tokio::spawn(write_until_killed(
                    port,
                    format!("r{round}-w{w}"),
                    acked.clone(),
                    arrived.clone(),
                ))
            })
            .collect();
        // Killed while the four clients are mid-write, after a varying number of acks.
        tokio::time::timeout(WITHIN, async {
            loop {
                let waiting = arrived.notified();
                if acked.lock().expect("lock").len() >= kill_after {
                    break;
                }
                waiting.await;
            }
        })
        .await
        .expect("the writes arrive");
        server.kill();
        for writer in writers {
            writer.await.expect("writer");
        }
    }
    let stored = incident_names(&dir.path().join("data/signalfire.db"));
    let acked = acked.lock().expect("lock");
    let lost: Vec<&String> = acked.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(acked.len() >= 20 * 3, "{} writes acknowledged", acked.len());
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_while_ten_writers_post_holds_every_update_acknowledged_before_it() {
    let dir = tempfile::tempdir().expect("dir");
    let (config, port) = crate::process::config(
        dir.path(),
        "[[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\ncron = \"0 0 0 1 1 *\"\n",
    );
    let mut server = Server::start(&config);
    server.logged("serving", 1).await;
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let arrived = std::sync::Arc::new(tokio::sync::Notify::new());
    let writers: Vec<_> = (0..10)
        .map(|w| {
            tokio::spawn(write_until_killed(
                port,
                format!("w{w}"),
                acked.clone(),
                arrived.clone(),
            ))
        })
        .collect();
    tokio::time::timeout(WITHIN, async {
        loop {
            let waiting = arrived.notified();
            if acked.lock().expect("lock").len() >= 50 {
                break;
            }
            waiting.await;
        }
    })
    .await
    .expect("writes arrive");
    let before: Vec<String> = acked.lock().expect("lock").clone();
    let out = dir.path().join("backup.db");
    let backup = tokio::task::spawn_blocking({
        let (config, out) = (config.clone(), out.clone());
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_signalfire"))
                .args(["backup", "--config"])
                .arg(&config)
                .arg("--out")
                .arg(&out)
                .output()
                .expect("signalfire backup")
        }
    })
    .await
    .expect("backup");
    // The writers go on beside the backup: another write is acknowledged once it has started
    // (how many land while it runs depends on how fast it is).
    tokio::time::timeout(WITHIN, async {
        loop {
            let waiting = arrived.notified();
            if acked.lock().expect("lock").len() > before.len() {
                break;
            }
            waiting.await;
        }
    })
    .await
    .expect("the writers go on beside the backup");
    server.kill();
    for writer in writers {
        writer.await.expect("writer");
    }
    assert_eq!(backup.status.code(), Some(0), "{backup:?}");
    let stored = incident_names(&out);
    let missing: Vec<&String> = before.iter().filter(|n| !stored.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, missing: {missing:?}"
    );
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_signalfire"))
        .args(["backup", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("signalfire backup");
    assert_eq!(again.status.code(), Some(1), "never overwrites");
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
}
