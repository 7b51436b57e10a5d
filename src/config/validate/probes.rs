//! The kind-specific part of a `[[monitor]]`: http, tcp, dns, heartbeat.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};
use toml::Spanned;
use url::Url;

use super::super::error::Collector;
use super::super::raw::RawMonitor;
use super::{duration, optional_duration, text};
use crate::domain::monitor::{DnsProbe, HeartbeatSpec, HttpProbe, StatusMatcher, TcpProbe};

/// Certificates expiring sooner than this make an https monitor degraded, unless configured.
const DEFAULT_TLS_EXPIRY_WARN: Duration = Duration::from_secs(14 * 86_400);
/// Bodies are read up to this much by default, and never more than [`MAX_BODY_LIMIT`].
const DEFAULT_MAX_BODY: usize = 1024 * 1024;
const MAX_BODY_LIMIT: usize = 64 * 1024 * 1024;
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

fn required<'a>(
    c: &mut Collector<'_>,
    spanned: &Spanned<RawMonitor>,
    value: &'a Option<Spanned<String>>,
    what: &str,
) -> Option<&'a Spanned<String>> {
    if value.is_none() {
        c.at(Some(spanned.span()), what.to_string());
    }
    value.as_ref()
}

pub fn http(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>) -> Option<HttpProbe> {
    let m = spanned.get_ref();
    let url = required(c, spanned, &m.url, "an http monitor needs url = \"https://…\"").and_then(|u| {
        match Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
            Ok(_) | Err(_) => {
                c.at(Some(u.span()), format!(
                    "url \"{}\" is not an absolute http:// or https:// URL; write e.g. \"https://example.com/\"",
                    u.get_ref()
                ));
                None
            }
        }
    });
    let method = match &m.method {
        None => "GET".to_string(),
        Some(v) => {
            let upper = v.get_ref().to_ascii_uppercase();
            if !METHODS.contains(&upper.as_str()) {
                c.at(
                    Some(v.span()),
                    format!(
                        "method \"{}\" is not one of {}",
                        v.get_ref(),
                        METHODS.join(", ")
                    ),
                );
            }
            upper
        }
    };
    let headers = headers(c, m);
    let tls_ca_file = m.tls_ca_file.as_ref().and_then(|f| ca_file(c, f));
    let is_https = url.as_ref().is_some_and(|u| u.scheme() == "https");
    let tls_expiry_warn = match &m.tls_expiry_warn {
        None if is_https => Some(DEFAULT_TLS_EXPIRY_WARN),
        None => None,
        Some(_) => {
            optional_duration(c, &m.tls_expiry_warn, "tls_expiry_warn").filter(|d| !d.is_zero())
        }
    };
    Some(HttpProbe {
        url: url?,
        method,
        headers,
        body: text(&m.body),
        expect_status: expect_status(c, m),
        expect_body: text(&m.expect_body).filter(|k| !k.is_empty()),
        expect_body_absent: text(&m.expect_body_absent).filter(|k| !k.is_empty()),
        follow_redirects: m.follow_redirects.as_ref().is_none_or(|v| *v.get_ref()),
        tls_verify: m.tls_verify.as_ref().is_none_or(|v| *v.get_ref()),
        tls_ca_file,
        tls_expiry_warn,
        max_body: max_body(c, m),
    })
}

fn headers(c: &mut Collector<'_>, m: &RawMonitor) -> Vec<(String, String)> {
    use reqwest::header::{HeaderName, HeaderValue};
    let Some(map) = &m.headers else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, value) in map.get_ref() {
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            c.at(
                Some(value.span()),
                format!("headers: \"{name}\" is not a valid header name"),
            );
        } else if HeaderValue::from_str(value.get_ref()).is_err() {
            c.at(Some(value.span()), format!("headers.{name}: the value holds characters a header cannot carry (control characters or line breaks)"));
        } else {
            out.push((name.clone(), value.get_ref().clone()));
        }
    }
    out
}

fn ca_file(c: &mut Collector<'_>, file: &Spanned<String>) -> Option<PathBuf> {
    let path = PathBuf::from(file.get_ref());
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

/// `max_body = 1048576`, `"512KiB"`, `"2MiB"`, `"1MB"`.
fn max_body(c: &mut Collector<'_>, m: &RawMonitor) -> usize {
    let Some(value) = &m.max_body else {
        return DEFAULT_MAX_BODY;
    };
    let parsed = match value.get_ref() {
        toml::Value::Integer(n) => usize::try_from(*n).ok(),
        toml::Value::String(s) => parse_size(s),
        _ => None,
    };
    match parsed {
        Some(n) if (1..=MAX_BODY_LIMIT).contains(&n) => n,
        _ => {
            c.at(Some(value.span()), format!(
                "max_body {} is not a size from 1 byte to 64MiB; write e.g. \"1MiB\" or \"512KiB\"",
                value.get_ref()
            ));
            DEFAULT_MAX_BODY
        }
    }
}

fn parse_size(text: &str) -> Option<usize> {
    let text = text.trim();
    let split = text
        .find(|ch: char| !ch.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: usize = number.parse().ok()?;
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "KiB" => 1024,
        "MB" => 1_000_000,
        "MiB" => 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(factor)
}

fn expect_status(c: &mut Collector<'_>, m: &RawMonitor) -> StatusMatcher {
    let Some(list) = &m.expect_status else {
        return StatusMatcher::SuccessOrRedirect;
    };
    let mut ranges = Vec::new();
    for item in list.get_ref() {
        match status_range(item.get_ref()) {
            Some(range) => ranges.push(range),
            None => c.at(Some(item.span()), format!(
                "expect_status entry {} is not a status code (100-599) or a range like \"200-299\"",
                item.get_ref()
            )),
        }
    }
    if ranges.is_empty() {
        if list.get_ref().is_empty() {
            c.at(
                Some(list.span()),
                "expect_status is empty; list codes like [200, 301] or remove it for any 2xx/3xx",
            );
        }
        return StatusMatcher::SuccessOrRedirect;
    }
    StatusMatcher::Ranges(ranges)
}

fn status_range(value: &toml::Value) -> Option<(u16, u16)> {
    let valid = |n: i64| u16::try_from(n).ok().filter(|n| (100..=599).contains(n));
    match value {
        toml::Value::Integer(n) => valid(*n).map(|n| (n, n)),
        toml::Value::String(s) => {
            let (lo, hi) = s.split_once('-')?;
            let lo = valid(lo.trim().parse().ok()?)?;
            let hi = valid(hi.trim().parse().ok()?)?;
            (lo <= hi).then_some((lo, hi))
        }
        _ => None,
    }
}

fn host(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>, kind: &str) -> Option<String> {
    let m = spanned.get_ref();
    let host = required(
        c,
        spanned,
        &m.host,
        &format!("a {kind} monitor needs host = \"mail.example.com\""),
    )?;
    let valid = !host.get_ref().is_empty()
        && host
            .get_ref()
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ".-_:[]".contains(ch));
    if !valid {
        c.at(
            Some(host.span()),
            format!(
                "host \"{}\" is not a host name or IP address",
                host.get_ref()
            ),
        );
        return None;
    }
    Some(host.get_ref().trim_matches(['[', ']']).to_string())
}

pub fn tcp(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>) -> Option<TcpProbe> {
    let m = spanned.get_ref();
    let host = host(c, spanned, "tcp");
    let port = match &m.port {
        None => {
            c.at(
                Some(spanned.span()),
                "a tcp monitor needs port = 587 (1 to 65535)",
            );
            None
        }
        Some(p) => u16::try_from(*p.get_ref())
            .ok()
            .filter(|p| *p > 0)
            .or_else(|| {
                c.at(
                    Some(p.span()),
                    format!("port {} is not a port number from 1 to 65535", p.get_ref()),
                );
                None
            }),
    };
    Some(TcpProbe {
        host: host?,
        port: port?,
    })
}

pub fn dns(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>) -> Option<DnsProbe> {
    let m = spanned.get_ref();
    let host = host(c, spanned, "dns");
    let mut expect_address = Vec::new();
    for item in m.expect_address.iter().flat_map(|l| l.get_ref()) {
        match item.get_ref().parse::<IpAddr>() {
            Ok(ip) => expect_address.push(ip),
            Err(_) => c.at(
                Some(item.span()),
                format!(
                    "expect_address \"{}\" is not an IP address like \"203.0.113.7\"",
                    item.get_ref()
                ),
            ),
        }
    }
    let resolver = m.resolver.as_ref().and_then(|r| {
        let text = r.get_ref();
        let parsed = text.parse::<SocketAddr>().ok().or_else(|| {
            text.parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        });
        if parsed.is_none() {
            c.at(
                Some(r.span()),
                format!(
                    "resolver \"{text}\" is not an address like \"127.0.0.1:53\" or \"9.9.9.9\""
                ),
            );
        }
        parsed
    });
    Some(DnsProbe {
        host: host?,
        expect_address,
        resolver,
    })
}

pub fn heartbeat(c: &mut Collector<'_>, spanned: &Spanned<RawMonitor>) -> Option<HeartbeatSpec> {
    let m = spanned.get_ref();
    let grace = required(
        c,
        spanned,
        &m.grace,
        "a heartbeat monitor needs grace = \"1h\" (how late a ping may be)",
    )
    .map(|_| duration(c, &m.grace, "grace", "1h"))?;
    let token_sha256 = match (&m.token, &m.token_sha256) {
        (Some(t), None) if t.get_ref().len() >= 16 => {
            Some(Sha256::digest(t.get_ref().as_bytes()).into())
        }
        (Some(t), None) => {
            c.at(
                Some(t.span()),
                "token must be at least 16 characters (it is the only secret in the ping URL)",
            );
            None
        }
        (None, Some(h)) => {
            let decoded = hex::decode(h.get_ref())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok());
            if decoded.is_none() {
                c.at(Some(h.span()), "token_sha256 must be 64 hex digits; make one with: printf %s \"$TOKEN\" | sha256sum");
            }
            decoded
        }
        (Some(_), Some(h)) => {
            c.at(
                Some(h.span()),
                "give either token or token_sha256, not both",
            );
            None
        }
        (None, None) => {
            c.at(
                Some(spanned.span()),
                "a heartbeat monitor needs token = \"…\" (16+ characters) or token_sha256",
            );
            None
        }
    };
    Some(HeartbeatSpec {
        grace,
        token_sha256: token_sha256?,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_size("512KiB"), Some(524_288));
        assert_eq!(parse_size("2MB"), Some(2_000_000));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1GiB"), None);
    }
}
