//! The flap damping benchmark: a monitor going down and up every 20 s for 30 minutes, and what
//! that sends. The library runs in this process on a manual clock (30 simulated minutes take a
//! few seconds), its checks against a local site that toggles, its mail to a local SMTP sink
//! that counts every recipient.
//!
//!   bench_flap [SUBSCRIBERS]        default 3 confirmed subscribers
//!
//! Prints `flapping 30 min: max mails per subscriber N (goal <= 6), owner M, incidents K`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use signalfire::config::Config;
use signalfire::domain::clock::ManualClock;
use signalfire::startup::{Application, Options};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const OWNER: &str = "owner@bench.example";
/// The monitor's interval: the site toggles every second check.
const INTERVAL: Duration = Duration::from_secs(10);
/// 30 minutes of flapping, then 12 quiet minutes for what was held to arrive.
const FLAPPING_CHECKS: usize = 180;
const QUIET_CHECKS: usize = 72;

type Counts = Arc<Mutex<HashMap<String, usize>>>;

fn main() -> anyhow::Result<()> {
    let subscribers: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()
        .context("SUBSCRIBERS")?
        .unwrap_or(3);
    signalfire::startup::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run(subscribers))
}

async fn run(subscribers: usize) -> anyhow::Result<()> {
    let counts: Counts = Arc::default();
    let smtp = TcpListener::bind("127.0.0.1:0").await?;
    let smtp_port = smtp.local_addr()?.port();
    tokio::spawn(smtp_sink(smtp, counts.clone()));
    let down = Arc::new(AtomicBool::new(false));
    let site = TcpListener::bind("127.0.0.1:0").await?;
    let site_port = site.local_addr()?.port();
    tokio::spawn(toggling_site(site, down.clone()));

    let dir = tempfile::tempdir()?;
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n\
         [page]\ntitle = \"Flap benchmark\"\n\n\
         [[monitor]]\nid = \"site\"\nname = \"Site\"\nurl = \"http://127.0.0.1:{site_port}/\"\n\
         interval = \"10s\"\nfailures_before_down = 1\nsuccesses_before_up = 1\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"Status <status@bench.example>\"\n\n\
         [subscribers]\nemail = true\n\n\
         [[notify]]\nid = \"owner\"\nkind = \"email\"\nto = [\"{OWNER}\"]\n",
        dir.path().display()
    );
    let config = Config::parse(&text, &dir.path().join("config.toml"), &|key| {
        (key == "SIGNALFIRE_ADMIN_TOKEN").then(|| "bench-admin-token-0123456789abcdef".into())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let options = Options {
        clock: clock.clone(),
        manual_schedule: true,
        ..Options::default()
    };
    let app = Application::build_with(config, options).await?;
    let state = app.state().clone();
    let stop = app.stop_token();
    let server = tokio::spawn(app.run_until_stopped());

    let now = clock.now();
    state
        .writer
        .run(move |tx| {
            for i in 0..subscribers {
                let address = format!("client{i}@bench.example");
                let (id, _) = signalfire::db::subscribers::sign_up(tx, &address, &[], now)?;
                signalfire::db::subscribers::confirm(tx, id, now)?;
            }
            Ok(())
        })
        .await?;

    for check in 0..FLAPPING_CHECKS + QUIET_CHECKS {
        // Down for 20 s, up for 20 s, for 30 minutes; then up.
        down.store(
            check < FLAPPING_CHECKS && (check / 2) % 2 == 0,
            Ordering::Relaxed,
        );
        clock.advance(INTERVAL);
        state.scheduler.run_due().await?;
        state.settled().await;
        state.notifier.deliver_due().await?;
    }
    let incidents = state
        .db
        .read(|c| Ok(signalfire::db::incidents::versions(c)?.len()))
        .await?;
    stop.cancel();
    let _ = server.await;

    let counts = counts.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    let per_subscriber = (0..subscribers)
        .map(|i| {
            counts
                .get(&format!("client{i}@bench.example"))
                .copied()
                .unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    let owner = counts.get(OWNER).copied().unwrap_or(0);
    println!(
        "flapping 30 min: max mails per subscriber {per_subscriber} (goal <= 6), owner {owner}, incidents {incidents}"
    );
    Ok(())
}

/// Answers 503 while `down`, else 200, one request per connection.
async fn toggling_site(listener: TcpListener, down: Arc<AtomicBool>) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let down = down.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let _ = stream.read(&mut buf).await;
            let reply: &[u8] = if down.load(Ordering::Relaxed) {
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown"
            } else {
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
            };
            let _ = stream.write_all(reply).await;
            let _ = stream.shutdown().await;
        });
    }
}

async fn smtp_sink(listener: TcpListener, counts: Counts) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(smtp_session(stream, counts.clone()));
    }
}

/// Accepts every mail and counts it once per recipient (`RCPT TO`).
async fn smtp_session(stream: TcpStream, counts: Counts) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(b"220 sink.bench ESMTP\r\n").await;
    let mut line = String::new();
    let mut in_data = false;
    let mut recipients = Vec::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let reply: &[u8] = if in_data {
            if line != ".\r\n" {
                continue;
            }
            in_data = false;
            if let Ok(mut counts) = counts.lock() {
                for r in recipients.drain(..) {
                    *counts.entry(r).or_insert(0) += 1;
                }
            }
            b"250 OK queued\r\n"
        } else {
            let upper = line.trim_end().to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                b"250-sink.bench\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("RCPT TO:") {
                let address = line.trim_end()[8..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .to_string();
                recipients.push(address);
                b"250 OK\r\n"
            } else if upper == "DATA" {
                in_data = true;
                b"354 go on\r\n"
            } else if upper == "QUIT" {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"250 OK\r\n"
            }
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
