//! Writes N monitors' history of D days into a fresh database, the way signalfire itself
//! would have: raw checks for the last `raw_days` (the retention window) through the live
//! recording path, hourly and daily buckets before that. Prints one JSON line of figures.
//!
//! cargo run --release --example bench_history -- DIR [monitors=200] [days=90] [target=http://127.0.0.1:9] [listen=127.0.0.1:0]
//! With days = 0 it only writes DIR/config.toml (for the scheduling benchmark).

#[path = "../benches/support/history.rs"]
mod history;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use signalfire::config::Config;

/// The retention window of raw checks in the default config.
const RAW_DAYS: i64 = 7;
const INTERVAL: Duration = Duration::from_secs(60);

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("bench/out/history", String::as_str));
    let monitors: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200);
    let days: i64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(90);
    let target = args
        .get(4)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:9".to_string());
    let listen = args
        .get(5)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:0".to_string());
    std::fs::create_dir_all(&dir)?;
    let _ = std::fs::remove_file(dir.join("data/signalfire.db"));
    let text = history::config_text(monitors, "data", &listen, &target, "60s");
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, &text)?;
    if days == 0 {
        println!(
            "{{\"monitors\":{monitors},\"config\":\"{}\"}}",
            config_path.display()
        );
        return Ok(());
    }
    let config = Config::load(&config_path).map_err(|e| anyhow::anyhow!("{e}"))?;

    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new()?;
    let clock: std::sync::Arc<dyn signalfire::domain::clock::Clock> =
        std::sync::Arc::new(signalfire::domain::clock::SystemClock);
    let storage = runtime.block_on(signalfire::startup::open_database(
        &std::sync::Arc::new(config.clone()),
        &clock,
    ))?;
    let (db, writer) = (storage.db.clone(), storage.writer.clone());
    let handles: Vec<_> = storage.roster.iter().cloned().collect();
    let rows: Vec<i64> = handles.iter().map(|h| h.row).collect();
    let now = Utc::now()
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .unwrap_or_else(Utc::now);
    let start = now - chrono::Duration::days(days);
    let raw_from = now - chrono::Duration::days(RAW_DAYS);
    let mut rng = history::Rng::new(42);
    history::seed_buckets(&db, &rows, start, raw_from, INTERVAL, &mut rng);
    let raw = history::seed_checks(
        &runtime, &writer, &handles, raw_from, now, INTERVAL, &mut rng,
    );
    db.write_blocking(|tx| Ok(tx.execute_batch("PRAGMA optimize;")?))?;
    let conn = rusqlite::Connection::open(config.database_path())?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA incremental_vacuum;")?;
    drop(conn);
    let bytes = std::fs::metadata(config.database_path())?.len();
    println!(
        "{{\"monitors\":{monitors},\"days\":{days},\"raw_checks\":{raw},\"db_bytes\":{bytes},\"seconds\":{:.1},\"config\":\"{}\"}}",
        started.elapsed().as_secs_f64(),
        config_path.display()
    );
    Ok(())
}
