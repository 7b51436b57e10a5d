//! What the https and smtp kinds share about certificates: which ones are trusted (the
//! system's roots plus `tls_ca_file`), when the server's expires and what that means for the
//! verdict, and the two keys that set them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use toml::Spanned;

use crate::domain::duration::format_span;
use crate::keys::{Collector, MonitorTable, Text, optional_duration};

/// Certificates expiring sooner than this make a TLS monitor degraded, unless configured.
pub const DEFAULT_TLS_EXPIRY_WARN: Duration = Duration::from_secs(14 * 86_400);

/// A verifier of server certificates, shared by every check that trusts the same roots.
pub type Verifier = Arc<dyn ServerCertVerifier>;

/// The certificates in a PEM file (`tls_ca_file`): one `BEGIN CERTIFICATE` block or more.
pub fn read_ca_file(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path)
        .with_context(|| format!("cannot read tls_ca_file {}", path.display()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|certs| !certs.is_empty());
    certs.with_context(|| format!("tls_ca_file {} holds no usable certificate", path.display()))
}

/// The verifier the https kind gets from reqwest — the system's roots plus `ca_file`, through
/// rustls-platform-verifier — built the same way for the other TLS kinds. It reads the system's
/// roots, so it is built once per `ca_file` (in `Probe::prepare`), not per check.
pub fn verifier(ca_file: Option<&Path>) -> anyhow::Result<Verifier> {
    let extra = match ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider())
        .context("cannot load the trusted certificates")?;
    Ok(Arc::new(verifier))
}

/// The installed crypto provider (ring, installed at start), or ring when none is.
pub fn provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

/// A verifier that keeps the server's certificate, so a check can say when it expires and
/// which names it is for, even when the handshake failed over it. One per connection.
#[derive(Debug)]
pub struct Recording {
    inner: Verifier,
    leaf: Mutex<Option<CertificateDer<'static>>>,
}

impl Recording {
    pub fn new(inner: Verifier) -> Self {
        Self {
            inner,
            leaf: Mutex::new(None),
        }
    }

    /// The server's own certificate, once the handshake got that far.
    pub fn leaf(&self) -> Option<CertificateDer<'static>> {
        self.leaf.lock().ok().and_then(|leaf| leaf.clone())
    }
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut leaf) = self.leaf.lock() {
            *leaf = Some(end_entity.clone().into_owned());
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// When a certificate (DER) expires.
pub fn not_after(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
}

/// The host names and addresses a certificate (DER) is for, as its subject alternative
/// names list them. Only names fit to be shown: the certificate is the server's to write.
pub fn names(der: &[u8]) -> Vec<String> {
    /// The longest host name there is (RFC 1035).
    const LONGEST: usize = 253;
    use x509_parser::extensions::GeneralName;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return Vec::new();
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return Vec::new();
    };
    san.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some((*dns).to_string()),
            GeneralName::IPAddress(ip) => ip_address(ip).map(|ip| ip.to_string()),
            _ => None,
        })
        .filter(|name| {
            !name.is_empty() && name.len() <= LONGEST && name.chars().all(|c| c.is_ascii_graphic())
        })
        .collect()
}

fn ip_address(bytes: &[u8]) -> Option<std::net::IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(v4.into());
    }
    <[u8; 16]>::try_from(bytes).ok().map(Into::into)
}

/// Expired (possible only without verification): down. Expiring within `warn`: degraded,
/// with the date. `Ok(None)` is up.
pub fn expiry_verdict(
    warn: Option<Duration>,
    not_after: Option<DateTime<Utc>>,
) -> Result<Option<String>, String> {
    let (Some(warn), Some(not_after)) = (warn, not_after) else {
        return Ok(None);
    };
    let date = not_after.format("%Y-%m-%d");
    match (not_after - Utc::now()).to_std() {
        Err(_) => Err(format!("TLS: certificate expired on {date}")),
        Ok(left) if left < warn => Ok(Some(format!(
            "TLS certificate expires on {date} (in {})",
            format_span(left)
        ))),
        Ok(_) => Ok(None),
    }
}

/// `tls_expiry_warn`: [`DEFAULT_TLS_EXPIRY_WARN`] when unset on a monitor that speaks TLS,
/// none when `"0s"` or without TLS.
pub fn expiry_warn_key(c: &mut Collector<'_>, value: &Text, uses_tls: bool) -> Option<Duration> {
    match value {
        None if uses_tls => Some(DEFAULT_TLS_EXPIRY_WARN),
        None => None,
        Some(_) => optional_duration(c, value, "tls_expiry_warn").filter(|d| !d.is_zero()),
    }
}

/// `tls_ca_file`, resolved from the config file's folder like `data_dir` (not from wherever
/// the server was started), and checked to hold a certificate.
pub fn ca_file_key(
    c: &mut Collector<'_>,
    table: &MonitorTable<'_>,
    file: &Spanned<String>,
) -> Option<PathBuf> {
    let path = table.path(file.get_ref());
    match std::fs::read_to_string(&path) {
        Ok(pem) if pem.contains("BEGIN CERTIFICATE") => Some(path),
        Ok(_) => {
            c.at(
                Some(file.span()),
                format!("tls_ca_file {}: no PEM certificate in it", path.display()),
            );
            None
        }
        Err(e) => {
            c.at(
                Some(file.span()),
                format!("tls_ca_file {}: cannot read it: {e}", path.display()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expiry_far_off_is_up_a_near_one_degraded_and_a_past_one_down() {
        let warn = Some(Duration::from_secs(14 * 86_400));
        let far = Utc::now() + chrono::Duration::days(60);
        assert_eq!(expiry_verdict(warn, Some(far)), Ok(None));
        let near = Utc::now() + chrono::Duration::days(3) + chrono::Duration::hours(12);
        let warning = expiry_verdict(warn, Some(near)).expect("not expired");
        let warning = warning.expect("a warning");
        assert!(
            warning.starts_with("TLS certificate expires on "),
            "{warning}"
        );
        assert!(warning.ends_with("(in 3 days 11 h)"), "{warning}");
        let past = Utc::now() - chrono::Duration::days(1);
        assert!(expiry_verdict(warn, Some(past)).is_err());
        assert_eq!(expiry_verdict(None, Some(past)), Ok(None));
    }

    #[test]
    fn addresses_in_certificates_are_four_or_sixteen_bytes() {
        assert_eq!(
            ip_address(&[127, 0, 0, 1]).map(|ip| ip.to_string()),
            Some("127.0.0.1".to_string())
        );
        assert!(ip_address(&[1, 2, 3]).is_none());
    }
}
