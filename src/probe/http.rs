//! The http probe: status code, keyword in a streamed and capped body, timeout, certificate expiry.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Response;

use super::{MAX_BODY_BYTES, errors};
use crate::domain::check::CheckResult;
use crate::domain::duration::format_duration;
use crate::domain::monitor::HttpProbe;

pub async fn check(client: &reqwest::Client, probe: &HttpProbe, timeout: Duration) -> CheckResult {
    let at = Utc::now();
    let started = Instant::now();
    let got_headers = AtomicBool::new(false);
    let certificate = OnceLock::new();
    let outcome =
        tokio::time::timeout(timeout, exchange(client, probe, &got_headers, &certificate)).await;
    let elapsed = started.elapsed();
    let result = match outcome {
        Ok(Ok(Verdict::Up)) => CheckResult::up(at, elapsed),
        Ok(Ok(Verdict::Degraded(reason))) => CheckResult::degraded(at, elapsed, reason),
        Ok(Err(reason)) => CheckResult::down(at, elapsed, reason),
        Err(_) if got_headers.load(Ordering::Relaxed) => CheckResult::down(
            at,
            elapsed,
            format!(
                "timed out reading the body after {}",
                format_duration(timeout)
            ),
        ),
        Err(_) => CheckResult::down(
            at,
            elapsed,
            format!("timed out after {}", format_duration(timeout)),
        ),
    };
    result.with_certificate(certificate.get().copied())
}

enum Verdict {
    Up,
    Degraded(String),
}

/// One request and its body; `Err` carries the reason the check failed.
async fn exchange(
    client: &reqwest::Client,
    probe: &HttpProbe,
    got_headers: &AtomicBool,
    certificate: &OnceLock<DateTime<Utc>>,
) -> Result<Verdict, String> {
    let response = client
        .get(probe.url.clone())
        .send()
        .await
        .map_err(|e| errors::describe(&e))?;
    got_headers.store(true, Ordering::Relaxed);
    let not_after = certificate_not_after(&response);
    if let Some(not_after) = not_after {
        let _ = certificate.set(not_after);
    }
    let status = response.status();
    if !probe.expect_status.accepts(status.as_u16()) {
        let reason = status.canonical_reason().unwrap_or("");
        return Err(format!("HTTP {} {reason}", status.as_u16())
            .trim_end()
            .to_string());
    }
    let found = read_body(response, probe.expect_body.as_deref()).await?;
    if let (Some(keyword), false) = (&probe.expect_body, found) {
        return Err(format!("keyword \"{keyword}\" not found"));
    }
    if let (Some(warn), Some(not_after)) = (probe.tls_expiry_warn, not_after) {
        let left = not_after - Utc::now();
        if left.to_std().map_or(true, |left| left < warn) {
            return Ok(Verdict::Degraded(format!(
                "TLS certificate expires {}",
                not_after.format("%Y-%m-%d %H:%M UTC")
            )));
        }
    }
    Ok(Verdict::Up)
}

/// Reads the body to its end, at most [`MAX_BODY_BYTES`], looking for `keyword` without
/// buffering the body: only the last `keyword.len() - 1` bytes carry over between chunks.
async fn read_body(mut response: Response, keyword: Option<&str>) -> Result<bool, String> {
    let needle = keyword.unwrap_or("").as_bytes();
    let mut found = needle.is_empty();
    let mut carry: Vec<u8> = Vec::new();
    let mut read = 0usize;
    while read < MAX_BODY_BYTES {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(format!("reading the body failed: {}", errors::describe(&e))),
        };
        let take = chunk.len().min(MAX_BODY_BYTES - read);
        read += take;
        if found {
            continue;
        }
        carry.extend_from_slice(&chunk[..take]);
        found = contains(&carry, needle);
        let keep = needle.len().saturating_sub(1).min(carry.len());
        carry.drain(..carry.len() - keep);
    }
    Ok(found)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// When the server's certificate expires, for https responses.
fn certificate_not_after(response: &Response) -> Option<DateTime<Utc>> {
    let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
    let der = info.peer_certificate()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
}

#[cfg(test)]
mod tests {
    use super::contains;

    #[test]
    fn finds_keywords_and_accepts_empty_ones() {
        assert!(contains(b"hello world", b"o w"));
        assert!(!contains(b"hello", b"world"));
        assert!(contains(b"", b""));
    }
}
