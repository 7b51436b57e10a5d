//! The real binary, killed with SIGKILL while notifications wait: nothing is lost, and no
//! delivery succeeds twice except at most one per kill.

use serde_json::json;

use crate::helpers::ADMIN_TOKEN;
use crate::process::{Server, WITHIN, free_port};
use crate::receivers::{Receiver, Reply};

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
