//! Turns transport errors into the few words a status page shows. Errors are classified by
//! their type, never by their message text, and a reason never carries a library's own
//! wording (often Rust debug text): it is public, on the page and in feeds.

use std::error::Error as StdError;
use std::io;

use super::resolve::DnsFailed;

/// How many redirects an http check follows before calling it a loop.
pub const MAX_REDIRECTS: usize = 10;

/// A redirect that leads back to a page already visited.
#[derive(Debug, thiserror::Error)]
#[error("redirect loop: {0} was already visited")]
pub struct RedirectLoop(pub String);

/// More redirects than [`MAX_REDIRECTS`].
#[derive(Debug, thiserror::Error)]
#[error("more than {MAX_REDIRECTS} redirects")]
pub struct TooManyRedirects;

/// A short reason for a failed request: "connection refused", "TLS: certificate not trusted".
pub fn describe(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(reason) = known(e) {
            return reason;
        }
        // io::Error hides a custom inner error from source(); step into it instead.
        source = match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "reading the response failed"
    } else if error.is_redirect() {
        "a redirect could not be followed"
    } else {
        "the request failed"
    };
    what.to_string()
}

/// The reason for one error in the chain, when it is one we know.
fn known(e: &(dyn StdError + 'static)) -> Option<String> {
    if let Some(redirect) = e.downcast_ref::<RedirectLoop>() {
        return Some(redirect.to_string());
    }
    if let Some(redirect) = e.downcast_ref::<TooManyRedirects>() {
        return Some(redirect.to_string());
    }
    if let Some(dns) = e.downcast_ref::<DnsFailed>() {
        return Some(dns.to_string());
    }
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(describe_tls(tls, Speaks::Http));
    }
    if let Some(hyper) = e.downcast_ref::<hyper::Error>()
        && hyper.is_incomplete_message()
    {
        return Some("connection closed before a response".to_string());
    }
    let io = e.downcast_ref::<io::Error>()?;
    known_io(io).map(str::to_string)
}

/// The reason for a failed connection.
pub fn describe_io(e: &io::Error) -> String {
    known_io(e).unwrap_or("cannot connect").to_string()
}

/// The words for a connection error we know, by its kind.
pub fn known_io(e: &io::Error) -> Option<&'static str> {
    use io::ErrorKind as K;
    Some(match e.kind() {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset by the server",
        K::ConnectionAborted => "connection aborted",
        K::UnexpectedEof => "connection closed before a response",
        K::TimedOut => "connection timed out",
        K::HostUnreachable | K::NetworkUnreachable => "host unreachable",
        K::AddrNotAvailable | K::NetworkDown => "the network is down",
        _ => return None,
    })
}

/// The protocol spoken inside TLS, for the hints that name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaks {
    Http,
    Smtp,
}

/// The reason for a failed TLS handshake on a connection of our own (the smtp kind):
/// `expected` is the host asked for, `presented` the names its certificate is for, when known.
pub fn describe_handshake(
    e: &io::Error,
    speaks: Speaks,
    expected: &str,
    presented: &[String],
) -> String {
    use rustls::CertificateError as C;
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(
            C::NotValidForName | C::NotValidForNameContext { .. },
        )) if !presented.is_empty() => {
            /// Names listed at most; a certificate may carry hundreds.
            const SHOWN: usize = 3;
            let mut names = presented[..presented.len().min(SHOWN)].join(", ");
            if presented.len() > SHOWN {
                names.push_str(", …");
            }
            format!("TLS: certificate is for {names}, not {expected}")
        }
        Some(tls) => describe_tls(tls, speaks),
        None if e.kind() == io::ErrorKind::UnexpectedEof => {
            "connection closed during the TLS handshake".to_string()
        }
        None => describe_io(e),
    }
}

fn describe_tls(e: &rustls::Error, speaks: Speaks) -> String {
    use rustls::CertificateError as C;
    let (plain, server) = match speaks {
        Speaks::Http => (
            "the server did not answer in TLS (is this port plain HTTP?)",
            "a web server",
        ),
        Speaks::Smtp => (
            "the server did not answer in TLS (is this port plain SMTP? try tls = \"starttls\")",
            "a mail server",
        ),
    };
    let text = match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature | C::UnknownRevocationStatus => {
                "certificate not trusted (unknown issuer or self-signed)"
            }
            C::ExpiredContext { not_after, .. } => {
                let date = chrono::DateTime::from_timestamp(not_after.as_secs() as i64, 0)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                return format!("TLS: certificate expired on {date}");
            }
            C::Expired => "certificate expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "certificate not valid yet",
            C::Revoked => "certificate revoked",
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "certificate is not valid for this host name"
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                return format!("TLS: certificate is not meant for {server}");
            }
            _ => "certificate not accepted",
        },
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => plain,
        rustls::Error::AlertReceived(_) => "the server refused the handshake",
        rustls::Error::PeerIncompatible(_) => {
            "the server offers no protocol version or cipher we accept"
        }
        _ => "handshake failed",
    };
    format!("TLS: {text}")
}
