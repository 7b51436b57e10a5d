//! The real binary, on the wall clock: a WebSub hub hears of an owner's update within 2 s,
//! with nobody driving the outbox by hand.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::ADMIN_TOKEN;
use crate::process::{Server, config};
use crate::receivers::{Receiver, Reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_hears_of_an_owners_update_within_two_seconds() {
    signalfire::startup::install_crypto_provider();
    let hub = Receiver::start(Reply::Status(204)).await;
    let dir = tempfile::tempdir().expect("dir");
    let (path, port) = config(
        dir.path(),
        &format!(
            "[feeds]\nwebsub_hubs = [\"{}\"]\n\n\
             [[monitor]]\nid = \"blog\"\nurl = \"http://127.0.0.1:9/\"\ncron = \"0 0 0 1 1 *\"\n",
            hub.url("/hub")
        ),
    );
    let mut server = Server::start(&path);
    server.logged("serving", 1).await;
    let client = reqwest::Client::new();
    let posted = Instant::now();
    let response = client
        .post(format!("http://127.0.0.1:{port}/api/admin/incidents"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"name": "Comments broken", "components": {"blog": "partial_outage"}}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 201);
    let pings = hub.wait_for_within("/hub", 1, Duration::from_secs(2)).await;
    let took = posted.elapsed();
    let body = String::from_utf8_lossy(&pings[0].body).to_string();
    assert!(body.contains("hub.mode=publish"), "{body}");
    assert!(body.contains("feed.atom"), "{body}");
    println!("the hub heard in {} ms", took.as_millis());
}
