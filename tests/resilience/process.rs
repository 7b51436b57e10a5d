//! The real binary as a process: started on a config, its log read line by line, stopped
//! with SIGKILL or a signal. For what only a process shows: crashes, signals, logs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::helpers::ADMIN_TOKEN;

/// How long the server may take to print what a test waits for.
pub const WITHIN: Duration = Duration::from_secs(20);

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The server as a process, its log lines read as they come.
pub struct Server {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Server {
    pub fn start(config: &std::path::Path) -> Self {
        Self::start_with_env(config, &[])
    }

    /// [`Server::start`] with more environment variables.
    pub fn start_with_env(config: &std::path::Path, env: &[(&str, &str)]) -> Self {
        signalfire::startup::install_crypto_provider();
        let mut child = Command::new(env!("CARGO_BIN_EXE_signalfire"))
            .args(["serve", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .env("SIGNALFIRE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start signalfire");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits until `n` log lines contain `text` (fails after [`WITHIN`]); the last of them.
    pub async fn logged(&mut self, text: &str, n: usize) -> String {
        let mut seen = 0;
        let mut last = String::new();
        while seen < n {
            let line = tokio::time::timeout(WITHIN, self.lines.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("\"{text}\" logged {seen} of {n} times within {WITHIN:?}")
                })
                .unwrap_or_else(|| panic!("the server stopped before logging \"{text}\""));
            if line.contains(text) {
                seen += 1;
                last = line;
            }
        }
        last
    }

    /// The log lines printed so far and not read yet.
    pub fn lines_now(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        while let Ok(line) = self.lines.try_recv() {
            lines.push(line);
        }
        lines
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (`HUP`, `TERM`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .expect("kill(1)");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to end on its own; its exit code.
    pub async fn exited(&mut self) -> Option<i32> {
        let deadline = tokio::time::Instant::now() + WITHIN;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.code();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server did not exit within {WITHIN:?}"
            );
            // Drain the log meanwhile so the pipe never fills.
            let _ = self.lines_now();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn kill(&mut self) {
        // SIGKILL: no shutdown, no flush, nothing finished.
        self.child.kill().expect("kill");
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config in `dir` listening on a free port, with `extra` appended; its path and the port.
pub fn config(dir: &std::path::Path, extra: &str) -> (std::path::PathBuf, u16) {
    let port = free_port();
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!("[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\n\n{extra}"),
    )
    .expect("config");
    (path, port)
}
