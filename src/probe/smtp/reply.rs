//! SMTP replies (RFC 5321 §4.2): `250-first line`, …, `250 last line`, read with bounds, since
//! the server on the other end may send anything, or endlessly.

use tokio::io::{AsyncRead, AsyncReadExt};

/// The most one reply may take, in bytes. RFC 5321 allows 512 octets a line; a long EHLO
/// answer lists a dozen or two extensions, under 1 KiB.
pub const MAX_REPLY_BYTES: usize = 4 * 1024;
/// The most lines one reply may have.
pub const MAX_REPLY_LINES: usize = 64;
/// The most of the server's own words a reason quotes: it is shown on the page.
const QUOTED_CHARS: usize = 100;

/// One whole reply: its code and the text of each line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    /// The code and first line, fit to be shown: `554 5.3.2 Service currently unavailable`.
    pub fn summary(&self) -> String {
        let text = self.lines.first().map_or("", String::as_str);
        let mut clean: String = text
            .chars()
            .map(|ch| if ch.is_control() { ' ' } else { ch })
            .take(QUOTED_CHARS)
            .collect();
        if text.chars().count() > QUOTED_CHARS {
            clean.push('…');
        }
        format!("{} {}", self.code, clean.trim())
            .trim_end()
            .to_string()
    }

    /// Whether an EHLO answer lists `keyword` (a line of its own after the greeting, case
    /// insensitive, parameters after it allowed).
    pub fn offers(&self, keyword: &str) -> bool {
        self.lines.iter().skip(1).any(|line| {
            line.split_whitespace()
                .next()
                .is_some_and(|word| word.eq_ignore_ascii_case(keyword))
        })
    }
}

/// Why no reply could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReplyError {
    /// Longer than [`MAX_REPLY_BYTES`] or [`MAX_REPLY_LINES`].
    TooLong,
    /// Not an SMTP reply: no three-digit code, or codes that change within one reply.
    NotSmtp,
}

/// Takes the first whole reply out of `buf` (the bytes read so far) and returns it;
/// `Ok(None)` while it is incomplete. Lines end in CRLF (a bare LF is taken too).
pub fn take(buf: &mut Vec<u8>) -> Result<Option<Reply>, ReplyError> {
    let mut code = None;
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(end) = buf[start..].iter().position(|b| *b == b'\n') {
        let end = start + end;
        let line = buf[start..end]
            .strip_suffix(b"\r")
            .unwrap_or(&buf[start..end]);
        let (this, last, text) = parse_line(line)?;
        if *code.get_or_insert(this) != this {
            return Err(ReplyError::NotSmtp);
        }
        lines.push(String::from_utf8_lossy(text).into_owned());
        start = end + 1;
        if start > MAX_REPLY_BYTES || lines.len() > MAX_REPLY_LINES {
            return Err(ReplyError::TooLong);
        }
        if last {
            buf.drain(..start);
            return Ok(Some(Reply { code: this, lines }));
        }
    }
    if buf.len() > MAX_REPLY_BYTES {
        return Err(ReplyError::TooLong);
    }
    Ok(None)
}

/// `250-text` → (250, not last, "text"); `250 text` and `250` → (250, last, …).
fn parse_line(line: &[u8]) -> Result<(u16, bool, &[u8]), ReplyError> {
    let (digits, rest) = line.split_at_checked(3).ok_or(ReplyError::NotSmtp)?;
    let valid = matches!(digits, [b'2'..=b'5', b'0'..=b'5', b'0'..=b'9']);
    if !valid {
        return Err(ReplyError::NotSmtp);
    }
    let code = digits
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match rest.split_first() {
        None => Ok((code, true, rest)),
        Some((b' ', text)) => Ok((code, true, text)),
        Some((b'-', text)) => Ok((code, false, text)),
        Some(_) => Err(ReplyError::NotSmtp),
    }
}

/// Why reading a reply failed.
#[derive(Debug)]
pub enum ReadError {
    Reply(ReplyError),
    /// The server closed the connection first.
    Closed,
    Io(std::io::Error),
}

/// Reads one reply from `stream`; bytes after it stay in `buf` for the next one.
pub async fn read<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Reply, ReadError> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(reply) = take(buf).map_err(ReadError::Reply)? {
            return Ok(reply);
        }
        match stream.read(&mut chunk).await {
            Ok(0) => return Err(ReadError::Closed),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(ReadError::Closed);
            }
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Option<Reply>, ReplyError> {
        take(&mut text.as_bytes().to_vec())
    }

    #[test]
    fn a_one_line_reply_is_its_code_and_text() {
        let reply = one("220 mail.example ESMTP ready\r\n")
            .expect("valid")
            .expect("whole");
        assert_eq!(reply.code, 220);
        assert_eq!(reply.lines, ["mail.example ESMTP ready"]);
        assert_eq!(reply.summary(), "220 mail.example ESMTP ready");
    }

    #[test]
    fn a_multi_line_reply_ends_at_its_line_with_a_space() {
        let mut buf =
            b"250-mail.example\r\n250-PIPELINING\r\n250-starttls\r\n250 8BITMIME\r\n221 next"
                .to_vec();
        let reply = take(&mut buf).expect("valid").expect("whole");
        assert_eq!(reply.code, 250);
        assert_eq!(reply.lines.len(), 4);
        assert!(reply.offers("STARTTLS"), "keywords are case insensitive");
        assert!(!reply.offers("mail.example"), "the greeting is no keyword");
        assert_eq!(buf, b"221 next", "what follows stays for the next reply");
    }

    #[test]
    fn an_incomplete_reply_waits_for_more() {
        assert_eq!(one("250-mail.example\r\n250-PIPE"), Ok(None));
        assert_eq!(one("220 mail.exa"), Ok(None));
        assert_eq!(one(""), Ok(None));
    }

    #[test]
    fn bare_line_feeds_and_a_code_alone_are_taken() {
        let reply = one("250-a\n250\n").expect("valid").expect("whole");
        assert_eq!(reply.lines, ["a", ""]);
        let bare = one("221\r\n").expect("valid").expect("whole");
        assert_eq!(bare.summary(), "221");
    }

    #[test]
    fn garbage_is_not_smtp() {
        assert_eq!(
            one("HTTP/1.1 400 Bad Request\r\n"),
            Err(ReplyError::NotSmtp)
        );
        assert_eq!(one("SSH-2.0-OpenSSH_9.6\r\n"), Err(ReplyError::NotSmtp));
        assert_eq!(one("22\r\n"), Err(ReplyError::NotSmtp));
        assert_eq!(one("220x hello\r\n"), Err(ReplyError::NotSmtp));
        assert_eq!(one("699 what\r\n"), Err(ReplyError::NotSmtp));
        assert_eq!(one("250-a\r\n550 b\r\n"), Err(ReplyError::NotSmtp));
    }

    #[test]
    fn oversized_replies_are_refused_however_they_come() {
        let long_line = format!("220 {}", "x".repeat(MAX_REPLY_BYTES));
        assert_eq!(one(&long_line), Err(ReplyError::TooLong), "no line end yet");
        let many = "250-x\r\n".repeat(MAX_REPLY_LINES + 1);
        assert_eq!(one(&many), Err(ReplyError::TooLong));
        let big = format!("250-{}\r\n", "y".repeat(1000)).repeat(5);
        assert_eq!(one(&big), Err(ReplyError::TooLong));
        let just_fits = "250-x\r\n".repeat(MAX_REPLY_LINES - 1) + "250 x\r\n";
        assert!(one(&just_fits).expect("valid").is_some());
    }

    #[test]
    fn summaries_are_short_and_free_of_control_characters() {
        let reply = Reply {
            code: 554,
            lines: vec![format!("go\u{1b}[31m away {}", "z".repeat(500))],
        };
        let summary = reply.summary();
        assert!(summary.starts_with("554 go [31m away"), "{summary}");
        assert!(summary.chars().count() <= 4 + QUOTED_CHARS + 1, "{summary}");
        assert!(summary.ends_with('…'));
    }

    #[tokio::test]
    async fn a_reply_is_read_across_chunks_and_a_closed_stream_is_said() {
        let (mut client, mut server) = tokio::io::duplex(64);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            for part in ["250-mail.", "example\r\n250 SIZE", " 100\r\n"] {
                server.write_all(part.as_bytes()).await.expect("write");
            }
        });
        let mut buf = Vec::new();
        let reply = read(&mut client, &mut buf).await.expect("a reply");
        assert_eq!(reply.lines, ["mail.example", "SIZE 100"]);
        writer.await.expect("writer");
        assert!(matches!(
            read(&mut client, &mut buf).await,
            Err(ReadError::Closed)
        ));
    }
}
