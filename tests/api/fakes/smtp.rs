//! A mail server on 127.0.0.1 for the `smtp` kind: it greets (or not, or with a refusal),
//! answers EHLO offering STARTTLS or not, upgrades to TLS with a certificate made by rcgen
//! (or speaks TLS from the first byte), and can close the connection at a chosen command.
//! It records every command it reads.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use super::TestCert;

/// How the fake mail server behaves.
#[derive(Clone)]
pub struct Script {
    /// The greeting, `220 …` or a refusal like `554 …`; `None`: it never greets.
    pub banner: Option<String>,
    /// STARTTLS is listed in the EHLO answer (before TLS).
    pub offers_starttls: bool,
    /// The answer to STARTTLS (`220 …` upgrades).
    pub starttls_reply: String,
    /// The answer to EHLO when it is not 250.
    pub ehlo_reply: Option<String>,
    /// The certificate for STARTTLS, or for TLS from the first byte when `implicit`.
    pub tls: Option<Arc<TestCert>>,
    pub implicit: bool,
    /// The command (`EHLO`, `STARTTLS`) at which the connection is closed without an answer.
    pub close_at: Option<&'static str>,
}

impl Script {
    /// A plain server that greets and answers EHLO without offering STARTTLS.
    pub fn plain() -> Self {
        Self {
            banner: Some("220 mail.test ESMTP ready".to_string()),
            offers_starttls: false,
            starttls_reply: "220 2.0.0 Ready to start TLS".to_string(),
            ehlo_reply: None,
            tls: None,
            implicit: false,
            close_at: None,
        }
    }

    /// A server that offers STARTTLS and upgrades with `cert`.
    pub fn starttls(cert: TestCert) -> Self {
        Self {
            offers_starttls: true,
            tls: Some(Arc::new(cert)),
            ..Self::plain()
        }
    }

    /// A server that speaks TLS from the first byte, with `cert`.
    pub fn implicit(cert: TestCert) -> Self {
        Self {
            implicit: true,
            ..Self::starttls(cert)
        }
    }
}

/// A running fake mail server.
pub struct FakeSmtp {
    pub port: u16,
    commands: Arc<Mutex<Vec<String>>>,
}

impl FakeSmtp {
    pub async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let commands: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = commands.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, script.clone(), log.clone()));
            }
        });
        Self { port, commands }
    }

    /// Every command read so far, as sent.
    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().expect("lock").clone()
    }
}

async fn session(stream: TcpStream, script: Script, log: Arc<Mutex<Vec<String>>>) {
    let acceptor = script
        .tls
        .as_ref()
        .map(|t| TlsAcceptor::from(t.config.clone()));
    if script.banner.is_none() {
        // Accepts, and never says a word.
        tokio::time::sleep(Duration::from_secs(3_600)).await;
        return;
    }
    match (script.implicit, acceptor) {
        (true, Some(acceptor)) => {
            if let Ok(tls) = acceptor.accept(stream).await {
                converse(tls, &script, &log, true, true).await;
            }
        }
        (_, acceptor) => {
            let Some(plain) = converse(stream, &script, &log, true, false).await else {
                return;
            };
            let Some(acceptor) = acceptor else { return };
            if let Ok(tls) = acceptor.accept(plain).await {
                converse(tls, &script, &log, false, true).await;
            }
        }
    }
}

/// Greets when `greet`, then answers commands until QUIT or a close; after a STARTTLS it
/// agreed to, returns the stream to be upgraded.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    script: &Script,
    log: &Mutex<Vec<String>>,
    greet: bool,
    secure: bool,
) -> Option<S> {
    let mut stream = BufReader::new(stream);
    if greet {
        let banner = script.banner.as_deref().unwrap_or_default();
        stream
            .write_all(format!("{banner}\r\n").as_bytes())
            .await
            .ok()?;
    }
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
            return None;
        }
        let command = line.trim_end().to_string();
        log.lock().expect("lock").push(command.clone());
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        if script.close_at == Some(verb.as_str()) {
            return None;
        }
        let reply = match verb.as_str() {
            "EHLO" => match &script.ehlo_reply {
                Some(refusal) => format!("{refusal}\r\n"),
                None if script.offers_starttls && !secure => {
                    "250-mail.test\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
                        .to_string()
                }
                None => "250-mail.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n".to_string(),
            },
            "STARTTLS" if script.starttls_reply.starts_with("220") => {
                let reply = format!("{}\r\n", script.starttls_reply);
                stream.write_all(reply.as_bytes()).await.ok()?;
                stream.flush().await.ok()?;
                return Some(stream.into_inner());
            }
            "STARTTLS" => format!("{}\r\n", script.starttls_reply),
            "QUIT" => {
                let _ = stream.write_all(b"221 2.0.0 Bye\r\n").await;
                let _ = stream.shutdown().await;
                return None;
            }
            _ => "502 5.5.1 not implemented\r\n".to_string(),
        };
        stream.write_all(reply.as_bytes()).await.ok()?;
        stream.flush().await.ok()?;
    }
}
