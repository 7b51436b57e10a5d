#![forbid(unsafe_code)]
//! The `signalfire` binary: parse arguments, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use tracing::Level;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Info by default; actix-http logs malformed client requests at ERROR, which is noise.
fn default_filter() -> Targets {
    Targets::new()
        .with_default(Level::INFO)
        .with_target("actix_http::h1", LevelFilter::OFF)
        .with_target("actix_server", Level::WARN)
        .with_target("tokio_cron_scheduler", Level::WARN)
}

fn main() -> ExitCode {
    let cli = signalfire::cli::Cli::parse();
    // `RUST_LOG`: a level and `target=level` directives, e.g. `info,signalfire::notify=debug`.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(default_filter);
    tracing_subscriber::fmt()
        // The subscriber's own cap (INFO by default) off: `filter` alone decides.
        .with_max_level(LevelFilter::TRACE)
        .with_writer(std::io::stderr)
        // Colours for a terminal only: not in journald, a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .finish()
        .with(filter)
        .init();
    signalfire::cli::run(cli)
}
