//! Turns transport errors into the few words a status page shows.

use std::error::Error as StdError;
use std::io;

/// A short reason for a failed request: "connection refused", "TLS: certificate not trusted".
pub fn describe(error: &reqwest::Error) -> String {
    if error.is_redirect() {
        return format!(
            "too many redirects (more than {}), probably a loop",
            super::MAX_REDIRECTS
        );
    }
    let mut source: Option<&(dyn StdError + 'static)> = Some(error);
    let mut innermost = error.to_string();
    while let Some(e) = source {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return describe_tls(tls);
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return describe_tls(tls);
            }
            if let Some(reason) = describe_io(io) {
                return reason;
            }
        }
        let text = e.to_string();
        if text.contains("connection closed before message completed") {
            return "connection closed before a response".to_string();
        }
        if text.contains("dns error") || text.contains("failed to lookup address") {
            return "DNS lookup failed".to_string();
        }
        innermost = text;
        source = e.source();
    }
    if error.is_connect() {
        return format!("cannot connect: {innermost}");
    }
    innermost
}

fn describe_io(e: &io::Error) -> Option<String> {
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
            C::Expired | C::ExpiredContext { .. } => "TLS: certificate expired".to_string(),
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
