//! The running server's pid file (`data_dir/signalfire.pid`) and its reload signal: SIGHUP,
//! sent by `signalfire reload` or by hand (`kill -HUP`).

use std::path::{Path, PathBuf};

use anyhow::Context;

const NAME: &str = "signalfire.pid";

/// The pid file of this process, locked for as long as it runs: a second server on the same
/// `data_dir` is refused, and `signalfire reload` signals only a process that holds the lock
/// (a pid file left by a crash names no one, or someone else). Removed when dropped.
pub struct PidFile {
    path: PathBuf,
    /// Holds the lock.
    _file: std::fs::File,
}

impl PidFile {
    pub fn create(data_dir: &Path) -> anyhow::Result<Self> {
        use std::io::Write;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let path = data_dir.join(NAME);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .with_context(|| format!("cannot open the pid file {}", path.display()))?;
        if !lock(&file, Lock::Exclusive)? {
            let other = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "another signalfire (pid {}) is running with the data directory {}; stop it first",
                other.trim(),
                data_dir.display()
            );
        }
        file.set_len(0)?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes())
            .with_context(|| format!("cannot write the pid file {}", path.display()))?;
        Ok(Self { path, _file: file })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Sends SIGHUP to the server whose pid file is in `data_dir`; returns its pid.
pub fn signal_reload(data_dir: &Path) -> anyhow::Result<u32> {
    let path = data_dir.join(NAME);
    let file = std::fs::File::open(&path).with_context(|| {
        format!(
            "cannot read {}: is the server running with this config?",
            path.display()
        )
    })?;
    // The server holds the lock while it runs: if we can take it, nobody runs.
    if lock(&file, Lock::Shared)? {
        anyhow::bail!(
            "no signalfire is running with the data directory {} ({} is left from an earlier run)",
            data_dir.display(),
            path.display()
        );
    }
    let text = std::fs::read_to_string(&path)?;
    let pid: u32 = text
        .trim()
        .parse()
        .with_context(|| format!("{} does not hold a process id", path.display()))?;
    hang_up(pid).with_context(|| {
        format!(
            "cannot signal process {pid} (from {}): it is not yours",
            path.display()
        )
    })?;
    Ok(pid)
}

enum Lock {
    Exclusive,
    Shared,
}

/// Tries to lock `file` without waiting: false when another process holds a lock on it.
#[cfg(unix)]
fn lock(file: &std::fs::File, kind: Lock) -> anyhow::Result<bool> {
    use rustix::fs::FlockOperation;
    let operation = match kind {
        Lock::Exclusive => FlockOperation::NonBlockingLockExclusive,
        Lock::Shared => FlockOperation::NonBlockingLockShared,
    };
    match rustix::fs::flock(file, operation) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(false),
        Err(e) => Err(e).context("cannot lock the pid file"),
    }
}

#[cfg(not(unix))]
fn lock(_file: &std::fs::File, _kind: Lock) -> anyhow::Result<bool> {
    Ok(true)
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
