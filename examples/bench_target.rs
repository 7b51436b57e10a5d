//! The local target of the scheduling benchmark: answers 200 "ok" on every path, fast, and
//! keeps idle connections open for 75 s, as nginx does by default (`keepalive_timeout`).
//!
//! cargo run --release --example bench_target -- [port=18090]

use actix_web::{App, HttpResponse, HttpServer, web};

fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(18_090);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        HttpServer::new(|| {
            App::new().default_service(web::to(|| async { HttpResponse::Ok().body("ok") }))
        })
        .workers(1)
        .keep_alive(std::time::Duration::from_secs(75))
        .backlog(4_096)
        .max_connections(50_000)
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })
}
