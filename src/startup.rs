//! Building and running the application: open the database, sync monitors, render the page,
//! bind the listener, then run the web server, the scheduler and the renderer until stopped.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware, web};
use anyhow::Context;
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use crate::auth::Sessions;
use crate::config::Config;
use crate::connectivity::Connectivity;
use crate::db::{Db, monitors};
use crate::metrics::Metrics;
use crate::probe::Prober;
use crate::recorder::Recorder;
use crate::render::{self, PageCache};
use crate::routes;
use crate::scheduler::Scheduler;
use crate::state::{AppState, MonitorHandle};

/// In-flight requests get this long to finish on shutdown (SPEC: stop within 5 s).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);
/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A built application: listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    stop: CancellationToken,
}

/// Installs the one TLS crypto provider (ring); harmless when already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Opens the database, brings its schema up to date and syncs the configured monitors.
pub async fn open_database(config: &Config) -> anyhow::Result<(Db, Vec<Arc<MonitorHandle>>)> {
    let path = config.database_path();
    let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
    let specs = config.monitors.clone();
    let handles = db
        .write(move |tx| {
            let rows = monitors::sync(tx, &specs, Utc::now())?;
            crate::incidents::automatic::retire_removed(tx, Utc::now())?;
            Ok(specs
                .into_iter()
                .zip(rows)
                .map(|(spec, row_id)| Arc::new(MonitorHandle { spec, row_id }))
                .collect())
        })
        .await
        .context("cannot store the configured monitors")?;
    Ok((db, handles))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        install_crypto_provider();
        let (db, handles) = open_database(&config).await?;
        let recorder = Recorder::start(db.clone());
        let state = AppState {
            config: Arc::new(config.clone()),
            db,
            prober: Prober::new(&config.monitors).context("cannot build the HTTP clients")?,
            monitors: Arc::new(handles),
            cache: Arc::new(PageCache::new()),
            sessions: Arc::new(Sessions::default()),
            metrics: Arc::new(Metrics::new()),
            connectivity: Arc::new(Connectivity::new(config.connectivity.clone())),
            recorder,
            exporter: Arc::default(),
            started_at: Utc::now(),
        };
        render::refresh(&state)
            .await
            .context("cannot render the status page")?;
        let listen = state.config.server.listen;
        let listener =
            TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .wrap(middleware::Compress::default())
                .wrap(security_headers())
                .configure(routes::configure)
        })
        .listen(listener)?
        .workers(std::thread::available_parallelism().map_or(2, |n| n.get().min(4)))
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .run();
        Ok(Self {
            port,
            server,
            state,
            stop: CancellationToken::new(),
        })
    }

    /// The port actually bound (tests bind port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Cancelling this token stops the application gracefully.
    pub fn stop_token(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Serves until SIGTERM, Ctrl-C or the stop token; then stops everything within 5 s.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            server,
            state,
            stop,
            ..
        } = self;
        let scheduler = Scheduler::start(state.clone(), stop.clone()).await?;
        let renderer = tokio::spawn(render::run(state.clone(), stop.clone()));
        let handle = server.handle();
        let mut server = tokio::spawn(server);
        tracing::info!(address = %state.config.server.listen, monitors = state.monitors.len(), "serving");
        let result = tokio::select! {
            result = &mut server => result.context("web server task failed")?.context("web server failed"),
            () = shutdown_signal(stop.clone()) => {
                tracing::info!("shutting down");
                handle.stop(true).await;
                Ok(())
            }
        };
        stop.cancel();
        scheduler.shutdown().await;
        // A render under way finishes or is dropped: shutdown stays within SPEC's 5 s.
        let _ = tokio::time::timeout(Duration::from_millis(500), renderer).await;
        result
    }
}

fn security_headers() -> middleware::DefaultHeaders {
    middleware::DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ))
}

/// Resolves on SIGTERM, Ctrl-C or cancellation of `stop`.
async fn shutdown_signal(stop: CancellationToken) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
        () = stop.cancelled() => {}
    }
}
