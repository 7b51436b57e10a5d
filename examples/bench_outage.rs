//! A mass outage, in the writer only: N monitors that were up all fail at once, through the live
//! recording path (check row, buckets, state machine, incident policy, and the outbox hook that
//! stages every notification in the same transaction). Nothing else runs in the process — no
//! server, renderer or notifier — so the process CPU is the writer's. Prints one JSON line.
//!
//! cargo run --release --example bench_outage -- DIR [monitors=1000] [none|webhook] [subscribers=1000]
//!
//! `none`: no channel and no subscribers (the outbox stages nothing). `webhook`: one webhook
//! channel and `subscribers` confirmed e-mail subscribers, each following one monitor (as
//! clients follow their own service); nothing is sent, only staged.

#[path = "../benches/support/history.rs"]
mod history;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use signalfire::config::Config;
use signalfire::db::subscribers;
use signalfire::domain::check::CheckResult;
use signalfire::domain::clock::{Clock, SystemClock};
use signalfire::monitoring::{self, Monitor};
use signalfire::writer::Writer;

const INTERVAL: chrono::Duration = chrono::Duration::seconds(60);

fn notify_text(subscribers: usize) -> String {
    let mut text = String::from(
        "[[notify]]\nid = \"automation\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n\n",
    );
    if subscribers > 0 {
        text.push_str(
            "[smtp]\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\nfrom = \"Status <status@example.net>\"\n\n\
             [subscribers]\nemail = true\n\n",
        );
    }
    text
}

/// The process's user + system CPU seconds, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map(|(_, rest)| rest.split(' ').collect())
        .unwrap_or_default();
    let ticks = |i: usize| -> f64 { fields.get(i).and_then(|f| f.parse().ok()).unwrap_or(0.0) };
    Ok((ticks(11) + ticks(12)) / 100.0)
}

/// One round: one check result per monitor, each its own write job, all queued at once (as the
/// checker hands them over); the writer batches them.
fn round(
    runtime: &tokio::runtime::Runtime,
    writer: &Writer,
    handles: &[Arc<Monitor>],
    result: impl Fn() -> CheckResult,
) -> anyhow::Result<()> {
    runtime.block_on(async {
        let jobs: Vec<_> = handles
            .iter()
            .map(|handle| {
                let (writer, handle, result) = (writer.clone(), handle.clone(), result());
                tokio::spawn(async move {
                    writer
                        .run(move |tx| Ok(monitoring::record(tx, &handle, &result)?))
                        .await
                })
            })
            .collect();
        for job in jobs {
            job.await??;
        }
        Ok(())
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("bench/out/outage", String::as_str));
    let monitors: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let channel = args.get(3).map_or("webhook", String::as_str) == "webhook";
    let subscribers: usize = if channel {
        args.get(4).and_then(|a| a.parse().ok()).unwrap_or(1000)
    } else {
        0
    };
    std::fs::create_dir_all(&dir)?;
    let _ = std::fs::remove_file(dir.join("data/signalfire.db"));
    let mut text =
        history::config_text(monitors, "data", "127.0.0.1:0", "http://127.0.0.1:9", "60s");
    if channel {
        text.push_str(&notify_text(subscribers));
    }
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, &text)?;
    let config = Arc::new(Config::load(&config_path).map_err(|e| anyhow::anyhow!("{e}"))?);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let storage = runtime.block_on(signalfire::startup::open_database(&config, &clock))?;
    let writer = storage.writer.clone();
    let handles: Vec<Arc<Monitor>> = storage.roster.iter().cloned().collect();
    let rows: Vec<i64> = handles.iter().map(|h| h.row).collect();
    let now = Utc::now();
    runtime.block_on(writer.run(move |tx| {
        for (i, row) in rows.iter().cycle().take(subscribers).enumerate() {
            let (id, _) =
                subscribers::sign_up(tx, &format!("client{i}@example.net"), &[*row], now)?;
            subscribers::confirm(tx, id, now)?;
        }
        Ok(())
    }))?;
    let thresholds = handles
        .first()
        .map(|h| h.spec.thresholds)
        .ok_or_else(|| anyhow::anyhow!("no monitors"))?;
    let mut at = now - INTERVAL * 10;
    for _ in 0..thresholds.successes_before_up {
        round(&runtime, &writer, &handles, || {
            CheckResult::up(at, Duration::from_millis(50))
        })?;
        at += INTERVAL;
    }

    let (cpu_before, started) = (cpu_seconds()?, Instant::now());
    for _ in 0..thresholds.failures_before_down {
        round(&runtime, &writer, &handles, || {
            CheckResult::down(
                at,
                Duration::from_millis(50),
                "HTTP 503 Service Unavailable",
            )
        })?;
        at += INTERVAL;
    }
    let cpu = cpu_seconds()? - cpu_before;
    let wall = started.elapsed().as_secs_f64();

    let (down, deliveries) = storage.db.read_blocking(|c| {
        let down: i64 = c.query_row(
            "SELECT count(*) FROM monitors WHERE active = 1 AND health = 'down'",
            [],
            |r| r.get(0),
        )?;
        let deliveries: i64 = c.query_row("SELECT count(*) FROM deliveries", [], |r| r.get(0))?;
        Ok((down, deliveries))
    })?;
    println!(
        "{{\"monitors\":{monitors},\"channel\":{channel},\"subscribers\":{subscribers},\"down\":{down},\"deliveries\":{deliveries},\"cpu_s\":{cpu:.3},\"wall_s\":{wall:.3}}}"
    );
    Ok(())
}
