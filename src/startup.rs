//! Building and running the application: open the database, start the writer and the change
//! stream's subscribers, sync monitors, render the page, bind the listener; then run the web
//! server, the scheduler, the renderer and the publisher until stopped.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware, web};
use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::auth::Sessions;
use crate::config::{Config, Watch};
use crate::connectivity::Connectivity;
use crate::db::{Db, monitors};
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::limit::WindowLimit;
use crate::events::Bus;
use crate::housekeeping::Housekeeping;
use crate::incidents::apply;
use crate::incidents::input::ComponentIndex;
use crate::metrics::Metrics;
use crate::monitoring::{Checker, Monitor, Roster};
use crate::notify::{Notifier, Outbox};
use crate::probe::Prober;
use crate::render::Renderer;
use crate::render::export::Publisher;
use crate::routes;
use crate::routes::connections::Connections;
use crate::scheduler::Scheduler;
use crate::state::AppState;
use crate::writer::Writer;

/// An idle kept-alive connection is closed after this.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Open files kept for everything but client connections: the database, probes (two each at
/// most), outgoing notifications, logs.
const RESERVED_FILES: u64 = 128;

/// In-flight requests get this long to finish on shutdown (SPEC: stop within 5 s).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// Client connections accepted at once: `[server] max_connections`, or what the open-files
/// limit leaves after [`RESERVED_FILES`] and the probes (the soft limit is raised to the hard
/// one first), so the server never runs out of files for its own work.
fn connection_budget(config: &Config) -> usize {
    if let Some(n) = config.server.max_connections {
        return n;
    }
    let files = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the open-files limit; assuming 1024");
            1_024
        }
    };
    let probes = 2 * config.server.max_concurrent_checks as u64;
    let left = files.saturating_sub(RESERVED_FILES + probes);
    usize::try_from(left)
        .unwrap_or(usize::MAX)
        .clamp(16, 25_000)
}

/// How the application is driven.
#[derive(Debug, Clone)]
pub struct Options {
    pub clock: Arc<dyn Clock>,
    /// Checks run only when [`Scheduler::run_due`] is called (tests), not on a timer.
    pub manual_schedule: bool,
    /// How long a client may take to send a request.
    pub deadlines: Deadlines,
}

/// How long a client may take to send a request: its head (line and headers) after the
/// connection opens or the last request ended, then its body; and to read the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    pub head: Duration,
    pub body: Duration,
    /// An answer the client does not read (its window stays shut) ends the connection after
    /// this: the kernel's `TCP_USER_TIMEOUT`.
    pub write: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            head: Duration::from_secs(5),
            body: routes::body::BodyDeadline::default().0,
            write: Duration::from_secs(30),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            manual_schedule: false,
            deadlines: Deadlines::default(),
        }
    }
}

/// A built application: listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    manual_schedule: bool,
    stop: CancellationToken,
}

/// Installs the one TLS crypto provider (ring); harmless when already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The database opened and brought up to date, its writer, the change stream the writer
/// publishes on, and the configured monitors with their rows.
pub struct Storage {
    pub db: Db,
    pub bus: Bus,
    pub writer: Writer,
    pub roster: Roster,
}

/// Opens the database (migrating it), starts the writer (with the outbox, so notifications
/// are written with their changes) and syncs the configured monitors.
pub async fn open_database(
    config: &Arc<Config>,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<Storage> {
    let path = config.database_path();
    let db = tokio::task::spawn_blocking(move || Db::open(&path)).await??;
    let bus = Bus::new();
    let outbox = Arc::new(Outbox::new(config.clone(), clock.clone()));
    let writer = Writer::start(db.clone(), bus.clone(), vec![outbox]);
    let roster = sync_monitors(&writer, config, clock).await?;
    Ok(Storage {
        db,
        bus,
        writer,
        roster,
    })
}

/// Stores the configured monitors (by id) and closes the poller's incidents of removed ones.
async fn sync_monitors(
    writer: &Writer,
    config: &Config,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<Roster> {
    let specs = config.monitors.clone();
    let infos: Vec<_> = specs.iter().map(|s| s.info()).collect();
    let now = clock.now();
    let rows = writer
        .run(move |tx| {
            let rows = monitors::sync(tx, &infos, now)?;
            apply::retire_removed(tx, now)?;
            Ok(rows)
        })
        .await
        .context("cannot store the configured monitors")?;
    let monitors = specs
        .into_iter()
        .zip(rows)
        .map(|(spec, row)| Arc::new(Monitor { spec, row }))
        .collect();
    Ok(Roster::new(monitors))
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Options::default()).await
    }

    pub async fn build_with(config: Config, options: Options) -> anyhow::Result<Self> {
        install_crypto_provider();
        let clock = options.clock;
        let config = Arc::new(config);
        let Storage {
            db,
            bus,
            writer,
            roster,
        } = open_database(&config, &clock).await?;
        let roster = Arc::new(roster);
        let components = ComponentIndex::new(roster.iter().map(|m| (m.spec.id.as_str(), m.row)));

        let metrics = Arc::new(Metrics::new());
        bus.subscribe(metrics.clone());
        let renderer = Renderer::new(db.clone(), config.clone(), metrics.clone(), clock.clone());
        bus.subscribe(renderer.cache().clone());
        let publisher = config.publish.clone().map(|dir| {
            Arc::new(Publisher::new(
                db.clone(),
                config.clone(),
                clock.clone(),
                dir,
            ))
        });
        if let Some(publisher) = &publisher {
            bus.subscribe(publisher.clone());
        }
        let notifier = Notifier::new(db.clone(), writer.clone(), clock.clone(), config.clone())?;
        bus.subscribe(Arc::new(notifier.clone()));

        let probes = roster.iter().filter_map(|m| match &m.spec.watch {
            Watch::Probe(probe) => Some(probe.as_ref()),
            Watch::Heartbeat(_) => None,
        });
        let prober = Prober::new(probes).context("cannot build the HTTP clients")?;
        let connectivity = Arc::new(Connectivity::new(
            config.connectivity.clone(),
            clock.clone(),
            writer.clone(),
        ));
        let checker = Checker::new(writer.clone(), prober, connectivity, clock.clone());
        let housekeeping = Housekeeping::new(
            db.clone(),
            writer.clone(),
            clock.clone(),
            config.retention.raw_checks,
        );
        let scheduler = Scheduler::new(
            checker.clone(),
            housekeeping,
            metrics.clone(),
            &roster,
            config.server.max_concurrent_checks,
        );
        let state = AppState {
            config: config.clone(),
            db,
            writer,
            clock,
            roster,
            components: Arc::new(components),
            checker,
            scheduler,
            renderer,
            publisher,
            notifier,
            sessions: Arc::new(Sessions::default()),
            sign_ups: Arc::default(),
            pings: Arc::new(WindowLimit::new(
                routes::PINGS_PER_MINUTE,
                Duration::from_secs(60),
                10_000,
            )),
            metrics,
        };
        state
            .renderer
            .refresh()
            .await
            .context("cannot render the status page")?;
        if let Some(publisher) = &state.publisher
            && let Err(e) = publisher.publish().await
        {
            tracing::error!(
                error = format!("{e:#}"),
                "publishing the static site failed"
            );
        }
        let listen = config.server.listen;
        let listener =
            TcpListener::bind(listen).with_context(|| format!("cannot listen on {listen}"))?;
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state.clone());
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        let max_connections = connection_budget(&config);
        let body_deadline = options.deadlines.body;
        let connections = Arc::new(Connections::new(
            config.server.max_connections_per_client,
            config.server.trusted_proxies.clone(),
            options.deadlines.write,
        ));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(routes::MAX_BODY_BYTES))
                .app_data(routes::body::BodyDeadline(body_deadline))
                .wrap(middleware::from_fn(routes::body::deadline))
                .wrap(middleware::from_fn(routes::errors::one_edge))
                .wrap(security_headers())
                .configure(routes::configure)
        })
        .on_connect(move |conn, data| connections.on_connect(conn, data))
        // The request head must arrive within this; the body has its own deadline.
        .client_request_timeout(options.deadlines.head)
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(KEEP_ALIVE)
        .max_connections(max_connections.div_ceil(workers).max(1))
        .backlog(1_024)
        .listen(listener)?
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
        .run();
        tracing::debug!(max_connections, workers, "accepting connections");
        Ok(Self {
            port,
            server,
            state,
            manual_schedule: options.manual_schedule,
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
            manual_schedule,
            ..
        } = self;
        let scheduler = if manual_schedule {
            None
        } else {
            Some(state.scheduler.start(stop.clone()).await?)
        };
        // Tests drive deliveries themselves (`Notifier::deliver_due`), on their clock.
        let notifier =
            (!manual_schedule).then(|| tokio::spawn(state.notifier.clone().run(stop.clone())));
        let renderer = tokio::spawn(state.renderer.clone().run(stop.clone()));
        let publisher = state
            .publisher
            .clone()
            .map(|p| tokio::spawn(p.run(stop.clone())));
        let handle = server.handle();
        let mut server = tokio::spawn(server);
        tracing::info!(address = %state.config.server.listen, monitors = state.roster.len(), "serving");
        let result = tokio::select! {
            result = &mut server => result.context("web server task failed")?.context("web server failed"),
            () = shutdown_signal(stop.clone()) => {
                tracing::info!("shutting down");
                handle.stop(true).await;
                Ok(())
            }
        };
        stop.cancel();
        if let Some(scheduler) = scheduler {
            scheduler.shutdown().await;
        }
        // A render under way finishes or is dropped: shutdown stays within SPEC's 5 s.
        let _ = tokio::time::timeout(Duration::from_millis(500), renderer).await;
        if let Some(publisher) = publisher {
            let _ = tokio::time::timeout(Duration::from_millis(500), publisher).await;
        }
        // A send under way is recorded or, if cut short, sent again after the restart with
        // the same delivery id.
        if let Some(notifier) = notifier {
            let _ = tokio::time::timeout(Duration::from_millis(500), notifier).await;
        }
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
            // connect-src 'self': the browser may fetch /robots.txt on the page's behalf
            // (Lighthouse does); the page itself has no script.
            "default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
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
