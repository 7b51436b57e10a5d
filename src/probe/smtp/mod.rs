//! The `smtp` kind: the mail server greets with 220, answers EHLO and — with STARTTLS, or TLS
//! from the first byte — shows a trusted certificate that is not about to expire; then we say
//! QUIT. Its keys are read in `keys.rs`, its replies in `reply.rs`, and `session.rs` runs one
//! connection's commands. The timeout bounds the whole dialogue; every reply is bounded in size.

mod keys;
mod reply;
mod session;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures_util::future::BoxFuture;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::timeout_at;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use self::session::{Failure, Session, Step};
use super::errors::{self, Speaks};
use super::{Kind, Probe, Tools, tcp, tls};
use crate::domain::check::CheckResult;
use crate::domain::smtp::SmtpTls;

pub use self::keys::DEFAULT_HELO_NAME;

/// The `smtp` kind.
pub const KIND: Kind = Kind {
    name: "smtp",
    keys: keys::KEYS,
    parse: keys::parse,
};

/// A check of a mail server, as a mail client would begin a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpProbe {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// The name we greet with (`EHLO name`).
    pub helo_name: String,
    /// An extra CA (PEM) to trust besides the system roots, resolved from the config's folder.
    pub tls_ca_file: Option<PathBuf>,
    /// Degraded when the certificate expires sooner than this.
    pub tls_expiry_warn: Option<Duration>,
}

impl Probe for SmtpProbe {
    fn kind(&self) -> &'static str {
        "smtp"
    }

    /// `smtp://mail.example.com:587 with STARTTLS`, `smtps://mail.example.com:465` (TLS from
    /// the first byte, as curl names it), `smtp://127.0.0.1:25 without TLS`. No parentheses:
    /// an incident puts the target in some.
    fn target(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let port = self.port;
        match self.tls {
            SmtpTls::StartTls => format!("smtp://{host}:{port} with STARTTLS"),
            SmtpTls::Implicit => format!("smtps://{host}:{port}"),
            SmtpTls::None => format!("smtp://{host}:{port} without TLS"),
        }
    }

    fn prepare(&self, tools: &mut Tools) -> anyhow::Result<()> {
        if self.tls == SmtpTls::None {
            return Ok(());
        }
        if let std::collections::hash_map::Entry::Vacant(slot) =
            tools.verifiers.entry(self.tls_ca_file.clone())
        {
            slot.insert(tls::verifier(self.tls_ca_file.as_deref())?);
        }
        Ok(())
    }

    fn check<'a>(&'a self, tools: &'a Tools, timeout: Duration) -> BoxFuture<'a, CheckResult> {
        let verifier = tools.verifiers.get(&self.tls_ca_file).cloned();
        Box::pin(check(self, verifier, timeout))
    }
}

async fn check(
    probe: &SmtpProbe,
    verifier: Option<tls::Verifier>,
    timeout: Duration,
) -> CheckResult {
    let at = Utc::now();
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let recording = verifier.map(|v| Arc::new(tls::Recording::new(v)));
    let mut answered = None;
    let outcome = dialogue(probe, recording.as_ref(), deadline, &mut answered).await;
    // The response time is the dialogue up to the last answer we judge; QUIT is not in it.
    let elapsed = answered.map_or_else(|| started.elapsed(), |t: Instant| t - started);
    let not_after = recording
        .and_then(|r| r.leaf())
        .and_then(|der| tls::not_after(&der));
    let result = match outcome {
        Err(failure) => CheckResult::down(at, elapsed, failure.reason(timeout)),
        Ok(()) => match tls::expiry_verdict(probe.tls_expiry_warn, not_after) {
            Ok(None) => CheckResult::up(at, elapsed),
            Ok(Some(warning)) => CheckResult::degraded(at, elapsed, warning),
            Err(reason) => CheckResult::down(at, elapsed, reason),
        },
    };
    result.with_certificate(not_after)
}

/// The session, step by step; `answered` is when the last answer that counts came.
async fn dialogue(
    probe: &SmtpProbe,
    recording: Option<&Arc<tls::Recording>>,
    deadline: tokio::time::Instant,
    answered: &mut Option<Instant>,
) -> Result<(), Failure> {
    let connection = timeout_at(deadline, tcp::open(&probe.host, probe.port))
        .await
        .map_err(|_| Failure::TimedOut(Step::Connect))?
        .map_err(Failure::Said)?;
    let ehlo = format!("EHLO {}", probe.helo_name);
    match probe.tls {
        SmtpTls::None => {
            let mut session = Session::new(connection, deadline);
            session.greet(&ehlo).await?;
            *answered = Some(Instant::now());
            session.quit().await;
        }
        SmtpTls::Implicit => {
            let connection = handshake(connection, probe, recording, deadline).await?;
            let mut session = Session::new(connection, deadline);
            session.greet(&ehlo).await?;
            *answered = Some(Instant::now());
            session.quit().await;
        }
        SmtpTls::StartTls => {
            let mut session = Session::new(connection, deadline);
            let capabilities = session.greet(&ehlo).await?;
            if !capabilities.offers("STARTTLS") {
                session.quit().await;
                return Err(Failure::Said("no STARTTLS offered".to_string()));
            }
            let started_tls = session.command(Step::StartTls, "STARTTLS", 220).await;
            session.or_quit(started_tls).await?;
            // Whatever the server sent after its 220 came before TLS: it is dropped with the
            // session, never read as if it were protected.
            let connection = handshake(session.stream, probe, recording, deadline).await?;
            let mut session = Session::new(connection, deadline);
            let greeted = session.command(Step::EhloOverTls, &ehlo, 250).await;
            session.or_quit(greeted).await?;
            *answered = Some(Instant::now());
            session.quit().await;
        }
    }
    Ok(())
}

/// The TLS handshake, the certificate checked as the https kind checks it.
async fn handshake(
    connection: TcpStream,
    probe: &SmtpProbe,
    recording: Option<&Arc<tls::Recording>>,
    deadline: tokio::time::Instant,
) -> Result<TlsStream<TcpStream>, Failure> {
    let Some(recording) = recording else {
        return Err(Failure::Said("no TLS verifier prepared".to_string()));
    };
    let config = ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|_| Failure::Said("TLS: no protocol version we accept".to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(probe.host.clone()).map_err(|_| {
        Failure::Said(format!(
            "TLS: {} is not a name a certificate can be for",
            probe.host
        ))
    })?;
    let connect = TlsConnector::from(Arc::new(config)).connect(name, connection);
    match timeout_at(deadline, connect).await {
        Err(_) => Err(Failure::TimedOut(Step::Handshake)),
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => {
            let presented = recording
                .leaf()
                .map(|der| tls::names(&der))
                .unwrap_or_default();
            Err(Failure::Said(errors::describe_handshake(
                &e,
                Speaks::Smtp,
                &probe.host,
                &presented,
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(tls: SmtpTls, host: &str, port: u16) -> SmtpProbe {
        SmtpProbe {
            host: host.to_string(),
            port,
            tls,
            helo_name: DEFAULT_HELO_NAME.to_string(),
            tls_ca_file: None,
            tls_expiry_warn: None,
        }
    }

    #[test]
    fn the_target_names_the_server_and_how_it_is_secured() {
        let p = probe(SmtpTls::StartTls, "mail.example", 587);
        assert_eq!(p.target(), "smtp://mail.example:587 with STARTTLS");
        assert_eq!(
            probe(SmtpTls::Implicit, "mail.example", 465).target(),
            "smtps://mail.example:465"
        );
        assert_eq!(
            probe(SmtpTls::None, "::1", 25).target(),
            "smtp://[::1]:25 without TLS"
        );
    }
}
