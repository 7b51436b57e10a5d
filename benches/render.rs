//! Figure 2: cold render of the page for 500 monitors with 90 days of history — from the
//! database to every public file (page, API documents, feeds, badges), as the server renders
//! after every change: the settled days of the window kept in memory, today's and yesterday's
//! buckets and everything else read anew. Also the first render after a start, which reads
//! the whole window.

#[path = "support/history.rs"]
mod history;

use std::time::Duration;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use signalfire::config::Config;
use signalfire::render::site;
use signalfire::render::snapshot::{self, DayHistory};
use signalfire::views::Links;

const MONITORS: usize = 500;
const DAYS: i64 = 90;

fn render(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = history::config_text(
        MONITORS,
        &dir.path().display().to_string(),
        "127.0.0.1:0",
        "http://127.0.0.1:9",
        "60s",
    );
    let config =
        Config::parse(&text, std::path::Path::new("bench.toml"), &|_| None).expect("config");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let clock: std::sync::Arc<dyn signalfire::domain::clock::Clock> =
        std::sync::Arc::new(signalfire::domain::clock::SystemClock);
    let storage = runtime
        .block_on(signalfire::startup::open_database(
            &std::sync::Arc::new(config.clone()),
            &clock,
        ))
        .expect("database");
    let db = storage.db.clone();
    let rows: Vec<i64> = storage.roster.iter().map(|h| h.row).collect();
    let now = Utc::now();
    let mut rng = history::Rng::new(7);
    history::seed_buckets(
        &db,
        &rows,
        now - chrono::Duration::days(DAYS),
        now,
        Duration::from_secs(60),
        &mut rng,
    );

    let history = DayHistory::new();
    let load = |history: &DayHistory| {
        db.read_blocking(|conn| Ok(snapshot::load(conn, &config, Utc::now(), history)?))
            .expect("snapshot")
    };
    let snapshot = load(&history);
    let bytes = site::render(&config, &snapshot, &Links::server()).expect("render");
    let page = bytes
        .iter()
        .find(|f| f.path == "index.html")
        .map_or(0, |f| f.body.len());
    eprintln!("index.html for {MONITORS} monitors: {page} bytes");

    let mut group = c.benchmark_group("render");
    group.sample_size(30);
    group.bench_function(
        "cold render, 500 monitors, 90 days (load + every file)",
        |b| {
            b.iter(|| {
                let snapshot = load(&history);
                site::render(&config, &snapshot, &Links::server()).expect("render")
            })
        },
    );
    group.bench_function("first render after start (whole window read)", |b| {
        b.iter(|| {
            let snapshot = load(&DayHistory::new());
            site::render(&config, &snapshot, &Links::server()).expect("render")
        })
    });
    group.bench_function("snapshot load only", |b| b.iter(|| load(&history)));
    group.bench_function("render only (every file)", |b| {
        b.iter(|| site::render(&config, &snapshot, &Links::server()).expect("render"))
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
