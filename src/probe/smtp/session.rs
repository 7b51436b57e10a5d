//! One SMTP connection: commands and replies within the check's deadline, and the words for
//! where and how a session failed.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout_at;

use super::reply::{self, MAX_REPLY_BYTES, MAX_REPLY_LINES, ReadError, Reply, ReplyError};
use crate::domain::duration::format_duration;
use crate::probe::errors;

/// QUIT is manners, not part of the test: its answer is awaited this long at most, so a
/// finished check does not wait out the rest of its timeout on a server slow to say goodbye.
const QUIT_WAIT: Duration = Duration::from_secs(1);

/// One connection's commands and replies, each within the check's deadline.
pub(super) struct Session<S> {
    pub(super) stream: S,
    /// Bytes read and not yet taken as a reply.
    buf: Vec<u8>,
    deadline: tokio::time::Instant,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    pub(super) fn new(stream: S, deadline: tokio::time::Instant) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            deadline,
        }
    }

    /// The 220 banner, then EHLO answered with 250: the EHLO answer (the capabilities).
    pub(super) async fn greet(&mut self, ehlo: &str) -> Result<Reply, Failure> {
        let greeted = async {
            self.expect(Step::Banner, 220).await?;
            self.command(Step::Ehlo, ehlo, 250).await
        }
        .await;
        self.or_quit(greeted).await
    }

    /// Sends `line`, then reads its answer, which must have `code`.
    pub(super) async fn command(
        &mut self,
        step: Step,
        line: &str,
        code: u16,
    ) -> Result<Reply, Failure> {
        let write = async {
            self.stream
                .write_all(format!("{line}\r\n").as_bytes())
                .await?;
            self.stream.flush().await
        };
        match timeout_at(self.deadline, write).await {
            Err(_) => return Err(Failure::TimedOut(step)),
            // Writing to a connection the server has closed.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                return Err(Failure::Closed(step));
            }
            Ok(Err(e)) => return Err(Failure::Io(step, e)),
            Ok(Ok(())) => {}
        }
        self.expect(step, code).await
    }

    /// Reads the answer of `step`, which must have `code`.
    pub(super) async fn expect(&mut self, step: Step, code: u16) -> Result<Reply, Failure> {
        let read = reply::read(&mut self.stream, &mut self.buf);
        let reply = match timeout_at(self.deadline, read).await {
            Err(_) => return Err(Failure::TimedOut(step)),
            Ok(Err(ReadError::Closed)) => return Err(Failure::Closed(step)),
            Ok(Err(ReadError::Io(e))) => return Err(Failure::Io(step, e)),
            Ok(Err(ReadError::Reply(e))) => return Err(Failure::Reply(step, e)),
            Ok(Ok(reply)) => reply,
        };
        if reply.code != code {
            return Err(Failure::Refused(step, reply));
        }
        Ok(reply)
    }

    /// Passes `result` on; when the server refused a command, says QUIT first, as a client
    /// should when it gives up on a session that still stands.
    pub(super) async fn or_quit<T>(&mut self, result: Result<T, Failure>) -> Result<T, Failure> {
        if matches!(result, Err(Failure::Refused(..))) {
            self.quit().await;
        }
        result
    }

    /// QUIT and its answer, within the deadline and [`QUIT_WAIT`]; whatever comes changes
    /// nothing.
    pub(super) async fn quit(&mut self) {
        let until = self.deadline.min(tokio::time::Instant::now() + QUIT_WAIT);
        let _ = timeout_at(until, async {
            let _ = self.command(Step::Quit, "QUIT", 221).await;
            let _ = self.stream.shutdown().await;
        })
        .await;
    }
}

/// Where in the session a check stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step {
    Connect,
    Banner,
    Ehlo,
    StartTls,
    Handshake,
    EhloOverTls,
    Quit,
}

impl Step {
    /// What was awaited: "no SMTP banner within 10s".
    fn awaited(self) -> &'static str {
        match self {
            Self::Connect => "connection",
            Self::Banner => "SMTP banner",
            Self::Ehlo => "answer to EHLO",
            Self::StartTls => "answer to STARTTLS",
            Self::Handshake => "TLS handshake",
            Self::EhloOverTls => "answer to EHLO after STARTTLS",
            Self::Quit => "answer to QUIT",
        }
    }

    /// When it went wrong: "connection closed after EHLO".
    fn when(self) -> &'static str {
        match self {
            Self::Connect => "while connecting",
            Self::Banner => "before the SMTP banner",
            Self::Ehlo => "after EHLO",
            Self::StartTls => "after STARTTLS",
            Self::Handshake => "during the TLS handshake",
            Self::EhloOverTls => "after EHLO over TLS",
            Self::Quit => "after QUIT",
        }
    }
}

/// Why a check failed, turned into words by [`Failure::reason`].
#[derive(Debug)]
pub(super) enum Failure {
    /// The words themselves.
    Said(String),
    TimedOut(Step),
    Closed(Step),
    Io(Step, std::io::Error),
    Reply(Step, ReplyError),
    /// An answer with another code than the step needs.
    Refused(Step, Reply),
}

impl Failure {
    pub(super) fn reason(&self, timeout: Duration) -> String {
        match self {
            Self::Said(words) => words.clone(),
            Self::TimedOut(step) => {
                format!("no {} within {}", step.awaited(), format_duration(timeout))
            }
            Self::Closed(step) => format!("connection closed {}", step.when()),
            Self::Io(step, e) => format!(
                "{} {}",
                errors::known_io(e).unwrap_or("the connection failed"),
                step.when()
            ),
            Self::Reply(step, ReplyError::TooLong) => format!(
                "the {} is too long (over {MAX_REPLY_BYTES} bytes or {MAX_REPLY_LINES} lines)",
                step.awaited()
            ),
            Self::Reply(Step::Banner, ReplyError::NotSmtp) => {
                "the server does not speak SMTP (no 220 banner)".to_string()
            }
            Self::Reply(step, ReplyError::NotSmtp) => format!("the {} is not SMTP", step.awaited()),
            Self::Refused(Step::Banner, reply) => format!(
                "the server answered {} instead of 220 (banner)",
                reply.summary()
            ),
            Self::Refused(Step::Ehlo, reply) => format!("EHLO refused: {}", reply.summary()),
            Self::Refused(Step::StartTls, reply) => {
                format!("STARTTLS refused: {}", reply.summary())
            }
            Self::Refused(Step::EhloOverTls, reply) => {
                format!("EHLO after STARTTLS refused: {}", reply.summary())
            }
            Self::Refused(step, reply) => {
                format!("the server answered {} {}", reply.summary(), step.when())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_says_its_step_in_words() {
        let ten = Duration::from_secs(10);
        let refused = |code, text: &str| Reply {
            code,
            lines: vec![text.to_string()],
        };
        let cases = [
            (Failure::TimedOut(Step::Banner), "no SMTP banner within 10s"),
            (Failure::Closed(Step::Ehlo), "connection closed after EHLO"),
            (
                Failure::Refused(Step::Banner, refused(554, "5.3.2 not now")),
                "the server answered 554 5.3.2 not now instead of 220 (banner)",
            ),
            (
                Failure::Refused(Step::Ehlo, refused(550, "go away")),
                "EHLO refused: 550 go away",
            ),
            (
                Failure::Refused(Step::StartTls, refused(454, "TLS not available")),
                "STARTTLS refused: 454 TLS not available",
            ),
            (
                Failure::Reply(Step::Banner, ReplyError::NotSmtp),
                "the server does not speak SMTP (no 220 banner)",
            ),
            (
                Failure::Reply(Step::Ehlo, ReplyError::TooLong),
                "the answer to EHLO is too long (over 4096 bytes or 64 lines)",
            ),
            (
                Failure::Io(
                    Step::StartTls,
                    std::io::Error::from(std::io::ErrorKind::ConnectionReset),
                ),
                "connection reset by the server after STARTTLS",
            ),
        ];
        for (failure, words) in cases {
            assert_eq!(failure.reason(ten), words);
        }
    }
}
