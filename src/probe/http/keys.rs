//! The keys of an `http` monitor, read and checked with their positions.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::{HttpProbe, StatusMatcher};
use crate::keys::{Collector, MonitorTable, Text, required, text};
use crate::probe::{Probe, tls};

/// Bodies are read up to this much by default, and never more than [`MAX_BODY_LIMIT`].
const DEFAULT_MAX_BODY: usize = 1024 * 1024;
const MAX_BODY_LIMIT: usize = 64 * 1024 * 1024;
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

pub const KEYS: &[&str] = &[
    "url",
    "method",
    "headers",
    "body",
    "expect_status",
    "expect_body",
    "expect_body_absent",
    "follow_redirects",
    "tls_verify",
    "tls_ca_file",
    "tls_expiry_warn",
    "max_body",
];

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HttpKeys {
    url: Text,
    method: Text,
    headers: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    body: Text,
    expect_status: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    expect_body: Text,
    expect_body_absent: Text,
    follow_redirects: Option<Spanned<bool>>,
    tls_verify: Option<Spanned<bool>>,
    tls_ca_file: Text,
    tls_expiry_warn: Text,
    max_body: Option<Spanned<toml::Value>>,
}

pub fn parse(table: &MonitorTable<'_>, c: &mut Collector<'_>) -> Option<Arc<dyn Probe>> {
    let m: HttpKeys = table.keys(c)?;
    let url = required(c, table.span(), &m.url, "an http monitor needs url = \"https://…\"")
        .and_then(|u| match Url::parse(u.get_ref()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                Some(url)
            }
            Ok(_) | Err(_) => {
                c.at(Some(u.span()), format!(
                    "url \"{}\" is not an absolute http:// or https:// URL; write e.g. \"https://example.com/\"",
                    u.get_ref()
                ));
                None
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
    let headers = headers(c, &m);
    let tls_ca_file = m
        .tls_ca_file
        .as_ref()
        .and_then(|f| tls::ca_file_key(c, table, f));
    let is_https = url.as_ref().is_some_and(|u| u.scheme() == "https");
    let tls_expiry_warn = tls::expiry_warn_key(c, &m.tls_expiry_warn, is_https);
    let probe = HttpProbe {
        url: url?,
        method,
        headers,
        body: text(&m.body),
        expect_status: expect_status(c, &m),
        expect_body: text(&m.expect_body).filter(|k| !k.is_empty()),
        expect_body_absent: text(&m.expect_body_absent).filter(|k| !k.is_empty()),
        follow_redirects: m.follow_redirects.as_ref().is_none_or(|v| *v.get_ref()),
        tls_verify: m.tls_verify.as_ref().is_none_or(|v| *v.get_ref()),
        tls_ca_file,
        tls_expiry_warn,
        max_body: max_body(c, &m),
    };
    Some(Arc::new(probe))
}

fn headers(c: &mut Collector<'_>, m: &HttpKeys) -> Vec<(String, String)> {
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

/// `max_body = 1048576`, `"512KiB"`, `"2MiB"`, `"1MB"`.
fn max_body(c: &mut Collector<'_>, m: &HttpKeys) -> usize {
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

fn expect_status(c: &mut Collector<'_>, m: &HttpKeys) -> StatusMatcher {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_size("512KiB"), Some(524_288));
        assert_eq!(parse_size("2MB"), Some(2_000_000));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("1GiB"), None);
    }

    #[test]
    fn the_key_list_matches_the_keys_read() {
        crate::probe::tests::assert_keys_match::<HttpKeys>(KEYS);
    }
}
