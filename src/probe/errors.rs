//! Turns transport errors into the few words a status page shows.

use std::error::Error as StdError;
use std::io;

/// A short reason for a failed request: "connection refused", "TLS: certificate not trusted".
pub fn describe(error: &reqwest::Error) -> String {
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    let mut innermost = error.to_string();
    while let Some(e) = source {
        if let Some(reason) = known(e) {
            return reason;
        }
        innermost = e.to_string();
        // io::Error hides a custom inner error from source(); step into it instead.
        source = match e.downcast_ref::<io::Error>().and_then(io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    if error.is_connect() {
        return format!("cannot connect: {innermost}");
    }
    innermost
}

/// The reason for one error in the chain, when it is one we know.
fn known(e: &(dyn StdError + 'static)) -> Option<String> {
    if let Some(redirect) = e.downcast_ref::<super::http::RedirectLoop>() {
        return Some(redirect.to_string());
    }
    if let Some(redirect) = e.downcast_ref::<super::http::TooManyRedirects>() {
        return Some(redirect.to_string());
    }
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(describe_tls(tls));
    }
    if let Some(reason) = e.downcast_ref::<io::Error>().and_then(describe_io) {
        return Some(reason);
    }
    let text = e.to_string();
    if text.contains("connection closed before message completed") {
        return Some("connection closed before a response".to_string());
    }
    if text.contains("dns error") || text.contains("failed to lookup address") {
        return Some("DNS lookup failed".to_string());
    }
    None
}

pub fn describe_io(e: &io::Error) -> Option<String> {
    use io::ErrorKind as K;
    let text = match e.kind() {
        K::ConnectionRefused => "connection refused",
        K::ConnectionReset => "connection reset by the server",
        K::ConnectionAborted => "connection aborted",
        K::UnexpectedEof => "connection closed before a response",
        K::TimedOut => "connection timed out",
        K::HostUnreachable | K::NetworkUnreachable => "host unreachable",
        _ => return None,
    };
    Some(text.to_string())
}

fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer | C::BadSignature | C::UnknownRevocationStatus => {
                "TLS: certificate not trusted (unknown issuer or self-signed)".to_string()
            }
            C::ExpiredContext { not_after, .. } => {
                let date = chrono::DateTime::from_timestamp(not_after.as_secs() as i64, 0)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                format!("TLS: certificate expired on {date}")
            }
            C::Expired => "TLS: certificate expired".to_string(),
            C::NotValidYet | C::NotValidYetContext { .. } => {
                "TLS: certificate not valid yet".to_string()
            }
            C::Revoked => "TLS: certificate revoked".to_string(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "TLS: certificate is not valid for this host name".to_string()
            }
            other => format!("TLS: certificate not trusted ({other:?})"),
        },
        other => format!("TLS: {other}"),
    }
}
