#![forbid(unsafe_code)]
//! The `signalfire` binary: parse arguments, set up logging, run the command.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// Info by default; actix-http logs malformed client requests at ERROR, which is noise.
const DEFAULT_LOG_FILTER: &str =
    "info,actix_http::h1=off,actix_server=warn,tokio_cron_scheduler=warn";

fn main() -> ExitCode {
    let cli = signalfire::cli::Cli::parse();
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal only: not in journald, a log file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    signalfire::cli::run(cli)
}
