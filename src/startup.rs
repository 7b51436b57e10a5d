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
use crate::monitoring::heartbeat::PingQueue;
use crate::monitoring::{Checker, Monitor, Roster};
use crate::notify::{Notifier, Outbox};
use crate::probe::Prober;
use crate::render::Renderer;
use crate::render::export::Publisher;
use crate::routes;
use crate::routes::connections::Connections;
use crate::scheduler::{Scheduler, SharedCron};
use crate::state::AppState;
use crate::supervisor::{Stage, Supervisor};
use crate::writer::Writer;

/// An idle kept-alive connection is closed after this.
const KEEP_ALIVE: Duration = Duration::from_secs(5);
/// Open files kept for everything but client connections: the database, probes (two each at
/// most), outgoing notifications, logs.
const RESERVED_FILES: u64 = 128;

/// Shutdown within SPEC's 5 s: requests and checks under way get this long to finish,
const FINISH_WORK: Duration = Duration::from_secs(3);
/// then the writes they queued this long to commit,
const FLUSH_WRITES: Duration = Duration::from_millis(1_000);
/// and the renderer, the export and the notifier this long to stop;
const FINISH_BACKGROUND: Duration = Duration::from_millis(500);
/// last the writer commits what the notifier recorded meanwhile, and every task still there
/// (none, unless one hangs) is aborted.
const FINISH_WRITER: Duration = Duration::from_millis(250);

/// Binds the listening socket with a backlog of [`BACKLOG`] (the standard library's is 128:
/// under a flood, connections would be dropped before the server could refuse them).
fn bind(address: std::net::SocketAddr) -> anyhow::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&address.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// Connections accepted past the budget, to be refused at once (from [`RESERVED_FILES`]).
const REFUSALS_IN_FLIGHT: usize = 32;

/// Connections waiting to be accepted, at most.
const BACKLOG: i32 = 1_024;

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
    let budget = usize::try_from(left)
        .unwrap_or(usize::MAX)
        .clamp(16, 25_000);
    tracing::info!(
        open_files = files,
        max_connections = budget,
        "open-files limit raised to the hard limit; connections sized from it"
    );
    budget
}

/// How the application is driven.
#[derive(Debug, Clone)]
pub struct Options {
    pub clock: Arc<dyn Clock>,
    /// Checks run only when [`Scheduler::run_due`] is called (tests), not on a timer.
    pub manual_schedule: bool,
    /// How long a client may take to send a request.
    pub deadlines: Deadlines,
    /// A reload: the running server's socket and the state its clients hold.
    pub reuse: Option<Reuse>,
    /// The process's cron scheduler for the housekeeping jobs, shared across reloads (`None`:
    /// the application starts one of its own).
    pub cron: Option<SharedCron>,
    /// Stop on SIGTERM and Ctrl-C by itself (else only when its stop token is cancelled: the
    /// command line owns the signals when it reloads).
    pub signals: bool,
}

/// What a reloaded application takes over from the one it replaces: the listening socket (no
/// connection is refused while the config changes) and the state clients hold — sessions and
/// rate limits.
#[derive(Clone)]
pub struct Reuse {
    listener: Arc<TcpListener>,
    sessions: Arc<Sessions>,
    sign_ups: Arc<crate::subscribers::SignUpLimit>,
    pings: Arc<WindowLimit<i64>>,
}

impl Options {
    /// A reload that logs every owner out (their credentials changed).
    pub fn forget_sessions(&mut self) {
        if let Some(reuse) = &mut self.reuse {
            reuse.sessions = Arc::default();
        }
    }
}

impl std::fmt::Debug for Reuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reuse")
            .field("listener", &self.listener)
            .finish_non_exhaustive()
    }
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
            reuse: None,
            cron: None,
            signals: true,
        }
    }
}

/// A built application: listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    options: Options,
    listener: Arc<TcpListener>,
    stop: CancellationToken,
    /// Every background task of this application, and the stages they stop in.
    tasks: Supervisor,
    stages: Stages,
}

/// The stages of a shutdown, in order: checks and timers stop (requests finish meanwhile),
/// the pings answered are written, the renderer, the export and the notifier stop, then the
/// writer.
struct Stages {
    checks: Stage,
    pings: Stage,
    background: Stage,
    writes: Stage,
}

/// Installs the one TLS crypto provider (ring); harmless when already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The database opened and brought up to date, its writer, the change stream the writer
/// publishes on, and the configured monitors with their rows; the supervisor the writer runs
/// under (dropping it stops the writer), and the writer's stage.
pub struct Storage {
    pub db: Db,
    pub bus: Bus,
    pub writer: Writer,
    pub roster: Roster,
    pub tasks: Supervisor,
    pub writes: Stage,
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
    let tasks = Supervisor::new();
    let writes = tasks.stage();
    let writer = Writer::start_supervised(db.clone(), bus.clone(), vec![outbox], &tasks, &writes);
    let roster = sync_monitors(&writer, config, clock).await?;
    Ok(Storage {
        db,
        bus,
        writer,
        roster,
        tasks,
        writes,
    })
}

/// Stores the configured monitors (by id), closes the poller's incidents of removed ones and
/// keys the daily uptime buckets by the days of `[page] timezone`.
async fn sync_monitors(
    writer: &Writer,
    config: &Config,
    clock: &Arc<dyn Clock>,
) -> anyhow::Result<Roster> {
    let specs = config.monitors.clone();
    let infos: Vec<_> = specs.iter().map(|s| s.info()).collect();
    let now = clock.now();
    let zone = config.page.timezone;
    let rows = writer
        .run(move |tx| {
            let rows = monitors::sync(tx, &infos, now)?;
            apply::retire_removed(tx, now)?;
            // Days of the page's zone: re-keyed from the hourly buckets when it changed.
            crate::db::uptime::key_days_in(tx, zone)?;
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
        let clock = options.clock.clone();
        let reuse = options.reuse.clone();
        let config = Arc::new(config);
        let Storage {
            db,
            bus,
            writer,
            roster,
            tasks,
            writes,
        } = open_database(&config, &clock).await?;
        let stages = Stages {
            checks: tasks.stage(),
            pings: tasks.stage(),
            background: tasks.stage(),
            writes,
        };
        let roster = Arc::new(roster);
        let components = ComponentIndex::new(roster.iter().map(|m| (m.spec.id.as_str(), m.row)));

        let metrics = Arc::new(Metrics::new());
        // Jobs' last success and run time survive a restart in /metrics too.
        let runs = db
            .read(|c| Ok(crate::db::pings::last_runs(c)?))
            .await
            .context("cannot read the background jobs' last runs")?;
        for m in roster.iter().filter(|m| m.spec.heartbeat().is_some()) {
            if let Some(run) = runs.get(&m.row) {
                metrics.seed_job(m.spec.id.as_str(), run.success, run.duration);
            }
        }
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
            config.reminders_heard(),
        );
        bus.subscribe(housekeeping.maintenance_watch());
        let last_checks = db
            .read(|c| Ok(monitors::last_checks(c)?))
            .await
            .context("cannot read when the monitors were last checked")?;
        let scheduler = Scheduler::new(
            checker.clone(),
            housekeeping,
            metrics.clone(),
            &roster,
            &last_checks,
            config.server.max_concurrent_checks,
        );
        let ping_queue = PingQueue::start(checker.clone(), &tasks, &stages.pings);
        let state = AppState {
            config: config.clone(),
            db,
            writer,
            clock,
            roster,
            components: Arc::new(components),
            ping_queue,
            checker,
            scheduler,
            renderer,
            publisher,
            notifier,
            sessions: reuse
                .as_ref()
                .map_or_else(Arc::default, |r| r.sessions.clone()),
            sign_ups: reuse
                .as_ref()
                .map_or_else(Arc::default, |r| r.sign_ups.clone()),
            pings: reuse.as_ref().map_or_else(
                || {
                    Arc::new(WindowLimit::new(
                        routes::PINGS_PER_MINUTE,
                        Duration::from_secs(60),
                        10_000,
                    ))
                },
                |r| r.pings.clone(),
            ),
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
        let listener = match &reuse {
            Some(r) => r.listener.clone(),
            None => {
                let listen = config.server.listen;
                Arc::new(bind(listen).with_context(|| format!("cannot listen on {listen}"))?)
            }
        };
        let port = listener.local_addr()?.port();
        let data = web::Data::new(state.clone());
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        let max_connections = connection_budget(&config);
        let body_deadline = options.deadlines.body;
        let connections = Arc::new(Connections::new(
            config.server.max_connections_per_client,
            max_connections,
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
                .wrap(middleware::from_fn(routes::headers::add))
                .configure(routes::configure)
        })
        .on_connect(move |conn, data| connections.on_connect(conn, data))
        // The request head must arrive within this; the body has its own deadline.
        .client_request_timeout(options.deadlines.head)
        .client_disconnect_timeout(Duration::from_secs(1))
        .keep_alive(KEEP_ALIVE)
        .h1_write_buffer_size(routes::connections::WRITE_BUFFER_BYTES)
        // Past our own budget, connections are accepted to be refused (a short 429), so the
        // accept loop never stops while a flood holds the budget: a little more than it.
        .max_connections(
            (max_connections + REFUSALS_IN_FLIGHT)
                .div_ceil(workers)
                .max(1),
        )
        .listen(listener.try_clone()?)?
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(FINISH_WORK.as_secs())
        .run();
        tracing::debug!(max_connections, workers, "accepting connections");
        Ok(Self {
            port,
            server,
            state,
            options,
            listener,
            stop: CancellationToken::new(),
            tasks,
            stages,
        })
    }

    /// What a reload needs from this application: its options, with its socket and the
    /// state its clients hold.
    pub fn reload_options(&self) -> Options {
        Options {
            reuse: Some(Reuse {
                listener: self.listener.clone(),
                sessions: self.state.sessions.clone(),
                sign_ups: self.state.sign_ups.clone(),
                pings: self.state.pings.clone(),
            }),
            ..self.options.clone()
        }
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

    /// Serves until SIGTERM, Ctrl-C or the stop token; then stops everything within 5 s. A
    /// background task that must not end (the writer) ending stops it too, with an error.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self {
            server,
            state,
            stop,
            options,
            tasks,
            stages,
            ..
        } = self;
        let manual_schedule = options.manual_schedule;
        if !manual_schedule {
            state
                .scheduler
                .start(&tasks, &stages.checks, options.cron.clone());
        }
        start_background(&state, &tasks, &stages.background, &options);
        let handle = server.handle();
        let mut server = tokio::spawn(server);
        tracing::info!(address = %state.config.server.listen, monitors = state.roster.len(), "serving");
        let result = tokio::select! {
            result = &mut server => result.context("web server task failed")?.context("web server failed"),
            why = tasks.failed() => Err(anyhow::anyhow!("a background task failed: {why}")),
            () = shutdown_signal(stop.clone(), options.signals) => {
                tracing::info!("shutting down");
                Ok(())
            }
        };
        // No new check starts; requests under way and checks under way finish together.
        stop.cancel();
        let (_, drained, _) = tokio::join!(
            tokio::time::timeout(FINISH_WORK, handle.stop(true)),
            tokio::time::timeout(FINISH_WORK, state.scheduler.drain()),
            stages.checks.stop(FINISH_WORK),
        );
        if drained.is_err() {
            state.scheduler.halt();
            tracing::warn!("checks still running at shutdown were dropped (no result yet)");
        }
        let _ = tokio::time::timeout(FINISH_BACKGROUND, server).await;
        // Every ping answered is handed to the writer.
        if tokio::time::timeout(FINISH_WORK, state.ping_queue.flush())
            .await
            .is_err()
        {
            tracing::error!("pings answered were not all written within the shutdown time");
        }
        stages.pings.stop(FLUSH_WRITES).await;
        // Every result handed to the writer so far is committed before the process ends.
        if tokio::time::timeout(FLUSH_WRITES, state.writer.run(|_| Ok(())))
            .await
            .is_err()
        {
            tracing::error!("the last writes did not commit within the shutdown time");
        }
        // A render under way finishes or is dropped; a send under way is recorded or, if cut
        // short, sent again after the restart with the same delivery id.
        stages.background.stop(FINISH_BACKGROUND).await;
        stages.writes.stop(FINISH_WRITER).await;
        // Nothing of this application runs on: a reload starts the next one from scratch.
        tasks.shutdown(FINISH_WRITER).await;
        result
    }
}

/// Starts the renderer, the export's publisher and the notifier under `tasks` in `stage`:
/// they stop last, so requests under way at shutdown still get the pages their writes wait
/// for. Tests drive deliveries themselves (`Notifier::deliver_due`), on their clock.
fn start_background(state: &AppState, tasks: &Supervisor, stage: &Stage, options: &Options) {
    let renderer = state.renderer.clone();
    tasks.spawn_restarting("renderer", stage, move |stop| renderer.clone().run(stop));
    if let Some(publisher) = state.publisher.clone() {
        tasks.spawn_restarting("publisher", stage, move |stop| publisher.clone().run(stop));
    }
    if !options.manual_schedule {
        // After a restart every pending delivery is due at once; after a reload (or a restart
        // of this task) the previous notifier may still be finishing its claims, which keep
        // their time.
        let (notifier, mut resume) = (state.notifier.clone(), options.reuse.is_none());
        tasks.spawn_restarting("notifier", stage, move |stop| {
            notifier.clone().run(stop, std::mem::take(&mut resume))
        });
    }
}

/// Resolves on cancellation of `stop`, and with `signals` on SIGTERM or Ctrl-C too.
async fn shutdown_signal(stop: CancellationToken, signals: bool) {
    if signals {
        tokio::select! {
            () = terminate() => {}
            () = stop.cancelled() => {}
        }
    } else {
        stop.cancelled().await;
    }
}

/// Resolves on SIGTERM or Ctrl-C (registered on the first poll).
pub async fn terminate() {
    match Terminate::new() {
        Ok(mut signals) => signals.wait().await,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM and Ctrl-C");
            std::future::pending::<()>().await;
        }
    }
}

/// SIGTERM and SIGINT (Ctrl-C), listened for from the moment this is made: one that arrives
/// before anyone waits is kept, never left to kill the process.
pub struct Terminate {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Terminate {
    pub fn new() -> anyhow::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
                int: signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves at the next SIGTERM or SIGINT.
    pub async fn wait(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
