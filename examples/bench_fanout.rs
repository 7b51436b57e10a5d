//! The notification fan-out benchmark: one incident update told to many recipients, measured
//! from outside the real server binary, against receivers on 127.0.0.1 run by this program.
//!
//!   bench_fanout BINARY DIR subscribers 10000   confirmed e-mail subscribers, a local SMTP sink
//!   bench_fanout BINARY DIR webhooks 500        webhook channels; the first one never answers
//!
//! Prints one JSON line: how many were accepted, when the last one was (seconds after the
//! incident was sent to the admin API), when every delivery was recorded, and the server's RSS
//! before and at its highest while sending.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use signalfire::config::Config;
use signalfire::domain::clock::{Clock, SystemClock};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const TOKEN: &str = "bench-admin-token-0123456789abcdef";
/// Gives up on a run after this long.
const LIMIT: Duration = Duration::from_secs(180);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Subscribers,
    Webhooks,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(binary), Some(dir), Some(mode), Some(n)) =
        (args.get(1), args.get(2), args.get(3), args.get(4))
    else {
        bail!("usage: bench_fanout BINARY DIR subscribers|webhooks N");
    };
    let mode = match mode.as_str() {
        "subscribers" => Mode::Subscribers,
        "webhooks" => Mode::Webhooks,
        other => bail!("unknown mode {other}"),
    };
    let n: usize = n.parse().context("N")?;
    signalfire::startup::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(run(Path::new(binary), &PathBuf::from(dir), mode, n))
}

async fn run(binary: &Path, dir: &Path, mode: Mode, n: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let _ = std::fs::remove_dir_all(dir.join("data"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let smtp = TcpListener::bind("127.0.0.1:0").await?;
    let smtp_port = smtp.local_addr()?.port();
    tokio::spawn(smtp_sink(smtp, accepted.clone()));
    let hooks = TcpListener::bind("127.0.0.1:0").await?;
    let hooks_port = hooks.local_addr()?.port();
    tokio::spawn(http_receiver(hooks, accepted.clone()));
    let hanging = TcpListener::bind("127.0.0.1:0").await?;
    let hanging_port = hanging.local_addr()?.port();
    tokio::spawn(never_answers(hanging));

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\n\n\
         [page]\ntitle = \"Fan-out benchmark\"\n\n\
         [[monitor]]\nid = \"site\"\nname = \"Site\"\nurl = \"http://127.0.0.1:9/\"\ninterval = \"24h\"\n\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nfrom = \"Status <status@bench.example>\"\n\n"
    );
    let expected = match mode {
        Mode::Subscribers => {
            text.push_str("[subscribers]\nemail = true\n\n");
            n
        }
        Mode::Webhooks => {
            for i in 0..n {
                let url = if i == 0 {
                    format!("http://127.0.0.1:{hanging_port}/hook/0")
                } else {
                    format!("http://127.0.0.1:{hooks_port}/hook/{i}")
                };
                text.push_str(&format!(
                    "[[notify]]\nid = \"hook-{i}\"\nkind = \"webhook\"\nurl = \"{url}\"\n\n"
                ));
            }
            n - 1
        }
    };
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, &text)?;
    if mode == Mode::Subscribers {
        seed_subscribers(&config_path, n).await?;
    }

    let mut server = Server(
        Command::new(std::path::absolute(binary)?)
            .arg("--config")
            .arg("config.toml")
            .current_dir(dir)
            .env("SIGNALFIRE_ADMIN_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the server")?,
    );
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let up = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        if up.elapsed() > Duration::from_secs(30) {
            bail!("the server did not start");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Let start-up settle (the first check, the first render) before the baseline.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before = rss_kib(pid)?;

    let posted = Instant::now();
    let response = client
        .post(format!("{base}/api/admin/incidents"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({
            "name": "Galleries are slow",
            "status": "investigating",
            "body": "Proof galleries load slowly; we are looking into it.",
            "components": {"site": "partial_outage"},
        }))
        .send()
        .await?;
    if response.status() != 201 {
        bail!("the incident was refused: {}", response.status());
    }

    let database = dir.join("data/signalfire.db");
    let mut rss_peak = rss_before;
    let mut all_accepted = None;
    let mut all_recorded = None;
    let mut counts = HashMap::new();
    while posted.elapsed() < LIMIT {
        rss_peak = rss_peak.max(rss_kib(pid)?);
        if all_accepted.is_none() && accepted.load(Ordering::Relaxed) >= expected {
            all_accepted = Some(posted.elapsed());
        }
        if all_accepted.is_some() {
            counts = delivery_counts(&database)?;
            if counts.get("delivered").copied().unwrap_or(0) >= expected as i64 {
                all_recorded = Some(posted.elapsed());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let rss_hwm = hwm_kib(pid)?;
    server.0.kill()?;
    let secs =
        |d: Option<Duration>| d.map_or("null".to_string(), |d| format!("{:.2}", d.as_secs_f64()));
    println!(
        "{{\"mode\":\"{}\",\"recipients\":{n},\"expected\":{expected},\"accepted\":{},\"all_accepted_s\":{},\"all_recorded_s\":{},\"delivered\":{},\"pending\":{},\"failed\":{},\"rss_before_kib\":{rss_before},\"rss_peak_kib\":{rss_peak},\"rss_hwm_kib\":{rss_hwm}}}",
        if mode == Mode::Subscribers {
            "subscribers"
        } else {
            "webhooks"
        },
        accepted.load(Ordering::Relaxed),
        secs(all_accepted),
        secs(all_recorded),
        counts.get("delivered").copied().unwrap_or(0),
        counts.get("pending").copied().unwrap_or(0),
        counts.get("failed").copied().unwrap_or(0),
    );
    Ok(())
}

/// Kills the server if the benchmark stops early.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `n` confirmed subscribers who follow every component, written before the server starts.
async fn seed_subscribers(config_path: &Path, n: usize) -> anyhow::Result<()> {
    let config = Arc::new(Config::load(config_path).map_err(|e| anyhow::anyhow!("{e}"))?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let storage = signalfire::startup::open_database(&config, &clock).await?;
    let now = clock.now();
    storage
        .writer
        .run(move |tx| {
            for i in 0..n {
                let (id, _) = signalfire::db::subscribers::sign_up(
                    tx,
                    &format!("client{i}@bench.example"),
                    &[],
                    now,
                )?;
                signalfire::db::subscribers::confirm(tx, id, now)?;
            }
            Ok(())
        })
        .await?;
    Ok(())
}

fn delivery_counts(database: &Path) -> anyhow::Result<HashMap<String, i64>> {
    let conn = rusqlite::Connection::open_with_flags(
        database,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    Ok(signalfire::db::outbox::counts(&conn)?)
}

fn status_kib(pid: u32, key: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no such line in /proc/PID/status")
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmRSS:")
}

fn hwm_kib(pid: u32) -> anyhow::Result<u64> {
    status_kib(pid, "VmHWM:")
}

/// Accepts every mail and counts it.
async fn smtp_sink(listener: TcpListener, accepted: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(smtp_session(stream, accepted.clone()));
    }
}

async fn smtp_session(stream: TcpStream, accepted: Arc<AtomicUsize>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(b"220 sink.bench ESMTP\r\n").await;
    let mut line = String::new();
    let mut in_data = false;
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
            accepted.fetch_add(1, Ordering::Relaxed);
            b"250 OK queued\r\n"
        } else {
            let upper = line.trim_end().to_ascii_uppercase();
            if upper.starts_with("EHLO") {
                b"250-sink.bench\r\n250-PIPELINING\r\n250 8BITMIME\r\n"
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

/// Answers every request 204 (HTTP/1.1, keep-alive) and counts it.
async fn http_receiver(listener: TcpListener, accepted: Arc<AtomicUsize>) {
    while let Ok((stream, _)) = listener.accept().await {
        let accepted = accepted.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut reader = BufReader::new(read);
            let mut line = String::new();
            loop {
                let mut length = 0usize;
                loop {
                    line.clear();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).await.is_err() {
                    return;
                }
                accepted.fetch_add(1, Ordering::Relaxed);
                if write
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }
}

/// Takes the connection and the request, and never answers.
async fn never_answers(listener: TcpListener) {
    let mut held = Vec::new();
    while let Ok((stream, _)) = listener.accept().await {
        held.push(stream);
    }
}
