//! The keys of an `smtp` monitor, read and checked with their positions.

use std::sync::Arc;

use serde::Deserialize;

use super::SmtpProbe;
use crate::domain::smtp::SmtpTls;
use crate::keys::{Collector, MonitorTable, Number, Text, host, port};
use crate::probe::{Probe, tls};

/// The port checked when none is given: SMTP's own (`465` with `tls = "implicit"`).
const DEFAULT_PORT: u16 = 25;
/// The port of SMTP over TLS from the first byte (RFC 8314).
const IMPLICIT_TLS_PORT: u16 = 465;
/// The name we greet with when none is given: ours, under a top-level domain that is never
/// anyone's (RFC 2606), so no server mistakes it for a real host.
pub const DEFAULT_HELO_NAME: &str = "signalfire.invalid";
/// The longest host name there is (RFC 1035).
const MAX_HELO_NAME: usize = 255;

pub const KEYS: &[&str] = &[
    "host",
    "port",
    "tls",
    "helo_name",
    "tls_ca_file",
    "tls_expiry_warn",
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SmtpKeys {
    host: Text,
    port: Number,
    tls: Text,
    helo_name: Text,
    tls_ca_file: Text,
    tls_expiry_warn: Text,
}

pub fn parse(table: &MonitorTable<'_>, c: &mut Collector<'_>) -> Option<Arc<dyn Probe>> {
    let m: SmtpKeys = table.keys(c)?;
    let host = host(c, table.span(), &m.host, "smtp");
    let tls_given = m
        .tls
        .as_ref()
        .map(|t| SmtpTls::parse(t.get_ref()).map_err(|e| c.at(Some(t.span()), e)));
    let port = match &m.port {
        None if matches!(tls_given, Some(Ok(SmtpTls::Implicit))) => Some(IMPLICIT_TLS_PORT),
        None => Some(DEFAULT_PORT),
        Some(_) => port(c, table.span(), &m.port, ""),
    };
    // Without `tls`, the port says which: 465 speaks TLS from the first byte, the others
    // (25, 587, …) upgrade with STARTTLS.
    let tls = match tls_given {
        Some(given) => given.ok(),
        None if port == Some(IMPLICIT_TLS_PORT) => Some(SmtpTls::Implicit),
        None => Some(SmtpTls::StartTls),
    };
    let uses_tls = tls != Some(SmtpTls::None);
    for (key, value) in [
        ("tls_ca_file", &m.tls_ca_file),
        ("tls_expiry_warn", &m.tls_expiry_warn),
    ] {
        if let Some(value) = value.as_ref().filter(|_| !uses_tls) {
            c.at(
                Some(value.span()),
                format!("{key} does not apply with tls = \"none\"; remove it, or check with tls = \"starttls\""),
            );
        }
    }
    let tls_ca_file = m
        .tls_ca_file
        .as_ref()
        .filter(|_| uses_tls)
        .and_then(|f| tls::ca_file_key(c, table, f));
    let tls_expiry_warn = if uses_tls {
        tls::expiry_warn_key(c, &m.tls_expiry_warn, true)
    } else {
        None
    };
    let helo_name = helo_name(c, &m.helo_name);
    Some(Arc::new(SmtpProbe {
        host: host?,
        port: port?,
        tls: tls?,
        helo_name: helo_name?,
        tls_ca_file,
        tls_expiry_warn,
    }))
}

/// `helo_name`: a host name, or an address literal like `[192.0.2.1]` — what may follow
/// EHLO, and nothing that could end the command early.
fn helo_name(c: &mut Collector<'_>, value: &Text) -> Option<String> {
    let Some(value) = value else {
        return Some(DEFAULT_HELO_NAME.to_string());
    };
    let name = value.get_ref();
    let literal = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .map(|inner| inner.strip_prefix("IPv6:").unwrap_or(inner))
        .is_some_and(|address| {
            !address.is_empty()
                && address
                    .chars()
                    .all(|ch| ch.is_ascii_hexdigit() || ".:".contains(ch))
        });
    let host_name = !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ".-".contains(ch));
    if name.is_empty() || name.len() > MAX_HELO_NAME || !(literal || host_name) {
        c.at(
            Some(value.span()),
            format!(
                "helo_name \"{name}\" is not a host name like \"status.example.com\" (or an address like \"[192.0.2.1]\")"
            ),
        );
        return None;
    }
    Some(name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn helo(name: &str) -> Option<String> {
        let mut c = Collector::new("");
        helo_name(&mut c, &Some(toml::Spanned::new(0..0, name.to_string())))
    }

    #[test]
    fn helo_names_are_host_names_or_address_literals_and_nothing_that_ends_a_command() {
        for good in [
            "status.example.com",
            "[192.0.2.1]",
            "[IPv6:2001:db8::1]",
            "localhost",
        ] {
            assert_eq!(helo(good).as_deref(), Some(good));
        }
        for bad in [
            "",
            "a b",
            "x\r\nRCPT TO:<a@b>",
            "[]",
            "[IPv6:]",
            "-x.example",
            "é.example",
        ] {
            assert_eq!(helo(bad), None, "{bad:?}");
        }
        let mut c = Collector::new("");
        assert_eq!(helo_name(&mut c, &None).as_deref(), Some(DEFAULT_HELO_NAME));
    }

    #[test]
    fn the_key_list_matches_the_keys_read() {
        crate::probe::tests::assert_keys_match::<SmtpKeys>(KEYS);
    }
}
