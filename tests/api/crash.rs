//! The real binary, killed with SIGKILL while notifications wait: nothing is lost, and no
//! delivery succeeds twice except at most one per kill.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;

use crate::helpers::ADMIN_TOKEN;
use crate::receivers::{Receiver, Reply};

/// How long the server may take to print what a test waits for.
const WITHIN: Duration = Duration::from_secs(20);

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The server as a process, its log lines read as they come.
struct Server {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Server {
    fn start(config: &std::path::Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_signalfire"))
            .args(["serve", "--config"])
            .arg(config)
            .env("SIGNALFIRE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start signalfire");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits until `n` log lines contain `text` (fails after [`WITHIN`]).
    async fn logged(&mut self, text: &str, n: usize) {
        let mut seen = 0;
        while seen < n {
            let line = tokio::time::timeout(WITHIN, self.lines.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("\"{text}\" logged {seen} of {n} times within {WITHIN:?}")
                })
                .unwrap_or_else(|| panic!("the server stopped before logging \"{text}\""));
            if line.contains(text) {
                seen += 1;
            }
        }
    }

    fn kill(&mut self) {
        // SIGKILL: no shutdown, no flush, nothing finished.
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
