//! The running server's pid file (`data_dir/signalfire.pid`) and its reload signal: SIGHUP,
//! sent by `signalfire reload` or by hand (`kill -HUP`).

use std::path::{Path, PathBuf};

use anyhow::Context;

const NAME: &str = "signalfire.pid";

/// The pid file of this process; removed when dropped (a clean stop).
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    pub fn create(data_dir: &Path) -> anyhow::Result<Self> {
        let path = data_dir.join(NAME);
        std::fs::write(&path, format!("{}\n", std::process::id()))
            .with_context(|| format!("cannot write the pid file {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own: a second server may have written its pid since.
        let ours = std::fs::read_to_string(&self.path)
            .is_ok_and(|text| text.trim() == std::process::id().to_string());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Sends SIGHUP to the server whose pid file is in `data_dir`; returns its pid.
pub fn signal_reload(data_dir: &Path) -> anyhow::Result<u32> {
    let path = data_dir.join(NAME);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}: is the server running with this config?",
            path.display()
        )
    })?;
    let pid: u32 = text
        .trim()
        .parse()
        .with_context(|| format!("{} does not hold a process id", path.display()))?;
    hang_up(pid).with_context(|| {
        format!(
            "cannot signal process {pid} (from {}): it is not running, or not yours",
            path.display()
        )
    })?;
    Ok(pid)
}

#[cfg(unix)]
fn hang_up(pid: u32) -> anyhow::Result<()> {
    let raw = i32::try_from(pid)?;
    let pid = rustix::process::Pid::from_raw(raw).context("not a process id")?;
    rustix::process::kill_process(pid, rustix::process::Signal::HUP)?;
    Ok(())
}

#[cfg(not(unix))]
fn hang_up(_pid: u32) -> anyhow::Result<()> {
    anyhow::bail!("reloading by signal needs a Unix system; restart the server instead")
}

/// SIGHUPs as they arrive.
pub struct Hangups {
    #[cfg(unix)]
    signal: tokio::signal::unix::Signal,
}

pub fn hangups() -> anyhow::Result<Hangups> {
    Ok(Hangups {
        #[cfg(unix)]
        signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("cannot listen for SIGHUP")?,
    })
}

impl Hangups {
    /// Resolves at the next SIGHUP (never, where there are none).
    pub async fn next(&mut self) {
        #[cfg(unix)]
        if self.signal.recv().await.is_some() {
            return;
        }
        std::future::pending::<()>().await;
    }
}
