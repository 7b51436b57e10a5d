//! The command line (SPEC §1): serve, check-config, export, hash-password.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigErrors};
use crate::domain::duration::format_duration;
use crate::domain::monitor::Schedule;
use crate::startup::Application;

/// Exit codes (SPEC §1).
pub const EXIT_RUNTIME: u8 = 1;
pub const EXIT_CONFIG: u8 = 2;

/// The config file used when --config is not given.
const DEFAULT_CONFIG: &str = "config.toml";

#[derive(Debug, Parser)]
#[command(
    name = "signalfire",
    version,
    about = "A self-hosted outage status page server"
)]
pub struct Cli {
    /// The config file (TOML).
    #[arg(long, global = true, default_value = DEFAULT_CONFIG, value_name = "PATH")]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: poller, scheduler and web (the default).
    Serve,
    /// Validate the config and list the monitors it would run.
    CheckConfig,
    /// Write the public site as static files from the database (no server needed).
    Export {
        /// The folder to write into (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Read a password on stdin and print an argon2id hash for `admin.password_hash`.
    HashPassword,
}

/// Runs the parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&cli.config),
        Command::CheckConfig => check_config(&cli.config),
        Command::HashPassword => hash_password(),
        Command::Export { out } => export(&cli.config, &out),
    }
}

fn export(path: &Path, out: &Path) -> ExitCode {
    let config = match load(path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let written = crate::db::Db::open(&config.database_path()).and_then(|db| {
        let exporter = crate::render::export::Exporter::default();
        db.read_blocking(|conn| exporter.export(&config, conn, out, chrono::Utc::now(), None))
    });
    match written {
        Ok(w) => {
            println!(
                "wrote {} files ({} KiB) to {}",
                w.files,
                w.bytes / 1024,
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn hash_password() -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("cannot read the password from stdin: {e}");
        return ExitCode::from(EXIT_RUNTIME);
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!(
            "no password given: pipe it in, e.g. printf %s 'my password' | signalfire hash-password"
        );
        return ExitCode::from(EXIT_CONFIG);
    }
    match crate::auth::hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn load(path: &Path) -> Result<Config, ExitCode> {
    Config::load(path).map_err(|errors: ConfigErrors| {
        eprintln!("{errors}");
        let n = errors.errors.len();
        eprintln!(
            "{n} problem{} in {}",
            if n == 1 { "" } else { "s" },
            path.display()
        );
        ExitCode::from(EXIT_CONFIG)
    })
}

fn check_config(path: &Path) -> ExitCode {
    let config = match load(path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    println!(
        "{}: ok, {} monitor(s)",
        path.display(),
        config.monitors.len()
    );
    for m in &config.monitors {
        let schedule = match &m.schedule {
            Schedule::Every(every) => format!("every {}", format_duration(*every)),
            Schedule::Cron(line) => format!("cron \"{line}\""),
        };
        println!(
            "  {:<20} {:<9} {:<44} {schedule}",
            m.id.as_str(),
            m.kind(),
            m.target()
        );
    }
    ExitCode::SUCCESS
}

fn serve(path: &Path) -> ExitCode {
    let config = match load(path) {
        Ok(config) => config,
        Err(code) => return code,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let result = runtime.block_on(async {
        let app = Application::build(config).await?;
        app.run_until_stopped().await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "signalfire stopped");
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}
