//! Receivers of notifications, on 127.0.0.1: an SMTP server that accepts every mail, and an
//! HTTP server that records every request and answers from a script (a status, or never).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// How long a test waits for a message before it fails.
const ARRIVES_WITHIN: Duration = Duration::from_secs(10);

/// Waits until `ready` holds, woken by `arrived`; fails the test after `within`.
async fn wait_until(
    arrived: &Notify,
    within: Duration,
    mut ready: impl FnMut() -> bool,
    what: &str,
) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let notified = arrived.notified();
        if ready() {
            return;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            panic!("{what} did not arrive within {within:?}");
        }
    }
}

/// One mail as received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Mail {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a well-formed mail")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    /// A header's raw value, unfolded and trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed()
            .header_raw(name)
            .map(|v| v.replace("\r\n", "").replace('\n', "").trim().to_string())
    }
}

/// An SMTP server that accepts every mail (no TLS: `tls = "none"` to 127.0.0.1).
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
    /// Recipients refused with a permanent `550` (a mailbox that does not exist).
    rejected: Arc<Mutex<Vec<String>>>,
    /// Every `RCPT TO` address, in order, accepted or not.
    tried: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let sink = Self {
            port: listener.local_addr().expect("addr").port(),
            mails: Arc::default(),
            arrived: Arc::new(Notify::new()),
            rejected: Arc::default(),
            tried: Arc::default(),
        };
        let server = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().session(stream));
            }
        });
        sink
    }

    /// The `[smtp]` section that sends here.
    pub fn config(&self) -> String {
        format!(
            "[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\nfrom = \"Test status <status@test.example>\"\n",
            self.port
        )
    }

    /// Refuses mail to `address` from now on with `550 5.1.1` (permanent).
    pub fn reject(&self, address: &str) {
        self.rejected
            .lock()
            .expect("lock")
            .push(address.to_string());
    }

    /// How often a sender named `address` in `RCPT TO`.
    pub fn tried(&self, address: &str) -> usize {
        let tried = self.tried.lock().expect("lock");
        tried.iter().filter(|a| *a == address).count()
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }

    /// The mails to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .collect()
    }

    /// Waits until `address` has received `n` mails; returns them.
    pub async fn wait_for(&self, address: &str, n: usize) -> Vec<Mail> {
        self.wait_for_within(address, n, ARRIVES_WITHIN).await
    }

    pub async fn wait_for_within(&self, address: &str, n: usize, within: Duration) -> Vec<Mail> {
        wait_until(
            &self.arrived,
            within,
            || self.to(address).len() >= n,
            "the mail",
        )
        .await;
        self.to(address)
    }

    async fn session(self, stream: TcpStream) {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let _ = write.write_all(b"220 sink.test ESMTP\r\n").await;
        let (mut from, mut to) = (String::new(), Vec::new());
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply: &[u8] = if upper.starts_with("EHLO") {
                b"250-sink.test\r\n250 8BITMIME\r\n"
            } else if upper.starts_with("HELO")
                || upper.starts_with("RSET")
                || upper.starts_with("NOOP")
            {
                if upper.starts_with("RSET") {
                    (from, to) = (String::new(), Vec::new());
                }
                b"250 OK\r\n"
            } else if upper.starts_with("MAIL FROM:") {
                from = address(&command);
                b"250 OK\r\n"
            } else if upper.starts_with("RCPT TO:") {
                let recipient = address(&command);
                self.tried.lock().expect("lock").push(recipient.clone());
                if self.rejected.lock().expect("lock").contains(&recipient) {
                    b"550 5.1.1 no such mailbox\r\n"
                } else {
                    to.push(recipient);
                    b"250 OK\r\n"
                }
            } else if upper == "DATA" {
                let _ = write.write_all(b"354 end with <CR><LF>.<CR><LF>\r\n").await;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line
                        .strip_prefix('.')
                        .filter(|_| line.starts_with(".."))
                        .unwrap_or(&line);
                    data.extend_from_slice(unstuffed.as_bytes());
                }
                self.mails.lock().expect("lock").push(Mail {
                    from: std::mem::take(&mut from),
                    to: std::mem::take(&mut to),
                    data,
                });
                self.arrived.notify_waiters();
                b"250 OK queued\r\n"
            } else if upper == "QUIT" {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            } else {
                b"502 not implemented\r\n"
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }
}

/// `<a@b>` out of `MAIL FROM:<a@b>`.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(a, _)| a.to_string())
        .unwrap_or_default()
}

/// One HTTP request as received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers a request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Reads the request and never answers.
    Hang,
    /// A 307 to this path on the same server.
    Redirect(&'static str),
}

/// An HTTP server that records requests and answers from a script, then with a default.
#[derive(Clone)]
pub struct Receiver {
    pub port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
    default: Arc<Mutex<Reply>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    pub async fn start(default: Reply) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        Self::on(listener, default)
    }

    /// Serves on a listener the test bound itself (a port that was refused before).
    pub fn on(listener: TcpListener, default: Reply) -> Self {
        let receiver = Self {
            port: listener.local_addr().expect("addr").port(),
            requests: Arc::default(),
            script: Arc::default(),
            default: Arc::new(Mutex::new(default)),
            arrived: Arc::new(Notify::new()),
        };
        let server = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(server.clone().serve(stream));
            }
        });
        receiver
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The next answers, before the default takes over.
    pub fn script(&self, replies: &[Reply]) {
        self.script
            .lock()
            .expect("lock")
            .extend(replies.iter().copied());
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    /// The requests to `path`.
    pub fn to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits until `path` has received `n` requests; returns them.
    pub async fn wait_for(&self, path: &str, n: usize) -> Vec<Request> {
        self.wait_for_within(path, n, ARRIVES_WITHIN).await
    }

    pub async fn wait_for_within(&self, path: &str, n: usize, within: Duration) -> Vec<Request> {
        wait_until(
            &self.arrived,
            within,
            || self.to(path).len() >= n,
            "the request",
        )
        .await;
        self.to(path)
    }

    async fn serve(self, mut stream: TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut head_lines = head.split("\r\n");
        let mut first = head_lines.next().unwrap_or_default().split(' ');
        let (method, path) = (
            first.next().unwrap_or_default().to_string(),
            first.next().unwrap_or_default().to_string(),
        );
        let headers: Vec<(String, String)> = head_lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        let length = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        let mut body = buf[head_end + 4..].to_vec();
        while body.len() < length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        let reply = self
            .script
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(*self.default.lock().expect("lock"));
        self.requests.lock().expect("lock").push(Request {
            method,
            path,
            headers,
            body,
        });
        self.arrived.notify_waiters();
        match reply {
            Reply::Hang => {
                // Holds the connection for longer than any client waits.
                tokio::time::sleep(Duration::from_secs(3_600)).await;
            }
            Reply::Redirect(to) => {
                let answer = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
            Reply::Status(code) => {
                let answer = format!(
                    "HTTP/1.1 {code} Scripted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        }
    }
}
