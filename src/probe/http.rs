//! The http probe: status code, keywords in a streamed and capped body, a hard deadline,
//! redirects (loops reported), certificate expiry.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Response;
use reqwest::redirect::Policy;

use super::{MAX_REDIRECTS, errors};
use crate::domain::check::CheckResult;
use crate::domain::duration::{format_duration, format_span};
use crate::domain::monitor::HttpProbe;

/// A redirect that leads back to a page already visited.
#[derive(Debug, thiserror::Error)]
#[error("redirect loop: {0} was already visited")]
pub struct RedirectLoop(pub String);

/// More redirects than [`MAX_REDIRECTS`].
#[derive(Debug, thiserror::Error)]
#[error("more than {MAX_REDIRECTS} redirects")]
pub struct TooManyRedirects;

pub fn redirect_policy(follow: bool) -> Policy {
    if !follow {
        return Policy::none();
    }
    Policy::custom(|attempt| {
        if attempt.previous().iter().any(|seen| seen == attempt.url()) {
            let url = attempt.url().to_string();
            attempt.error(RedirectLoop(url))
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(TooManyRedirects)
        } else {
            attempt.follow()
        }
    })
}

/// What a check learned before any deadline cut it short.
#[derive(Default)]
struct Progress {
    got_headers: AtomicBool,
    not_after: OnceLock<DateTime<Utc>>,
}

pub async fn check(client: &reqwest::Client, probe: &HttpProbe, timeout: Duration) -> CheckResult {
    let at = Utc::now();
    let started = Instant::now();
    let progress = Progress::default();
    let outcome = tokio::time::timeout(timeout, exchange(client, probe, &progress)).await;
    let elapsed = started.elapsed();
    let result = match outcome {
        Ok(Ok(None)) => CheckResult::up(at, elapsed),
        Ok(Ok(Some(warning))) => CheckResult::degraded(at, elapsed, warning),
        Ok(Err(reason)) => CheckResult::down(at, elapsed, reason),
        Err(_) if progress.got_headers.load(Ordering::Relaxed) => CheckResult::down(
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
    result.with_certificate(progress.not_after.get().copied())
}

/// One request and its body. `Ok(None)` is up, `Ok(Some(warning))` degraded, `Err` down.
async fn exchange(
    client: &reqwest::Client,
    probe: &HttpProbe,
    progress: &Progress,
) -> Result<Option<String>, String> {
    let method =
        reqwest::Method::from_bytes(probe.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = client.request(method, probe.url.clone());
    for (name, value) in &probe.headers {
        request = request.header(name, value);
    }
    if let Some(body) = &probe.body {
        request = request.body(body.clone());
    }
    let response = request.send().await.map_err(|e| errors::describe(&e))?;
    progress.got_headers.store(true, Ordering::Relaxed);
    let not_after = certificate_not_after(&response);
    if let Some(not_after) = not_after {
        let _ = progress.not_after.set(not_after);
    }
    let status = response.status();
    if !probe.expect_status.accepts(status.as_u16()) {
        let reason = status.canonical_reason().unwrap_or("");
        return Err(format!("HTTP {} {reason}", status.as_u16())
            .trim_end()
            .to_string());
    }
    let needles: Vec<&str> = [
        probe.expect_body.as_deref(),
        probe.expect_body_absent.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let found = read_body(response, &needles, probe.max_body).await?;
    let mut found = found.into_iter();
    if let Some(keyword) = &probe.expect_body
        && found.next() != Some(true)
    {
        return Err(format!("keyword \"{keyword}\" not found"));
    }
    if let Some(forbidden) = &probe.expect_body_absent
        && found.next() == Some(true)
    {
        return Err(format!("error text \"{forbidden}\" found in the body"));
    }
    certificate_verdict(probe, not_after)
}

/// Expired (possible only without verification): down. Expiring within the warning: degraded.
fn certificate_verdict(
    probe: &HttpProbe,
    not_after: Option<DateTime<Utc>>,
) -> Result<Option<String>, String> {
    let (Some(warn), Some(not_after)) = (probe.tls_expiry_warn, not_after) else {
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

/// Reads the body to its end, at most `limit` bytes, looking for each needle without
/// buffering the body: only the last `longest needle - 1` bytes carry over between chunks.
async fn read_body(
    mut response: Response,
    needles: &[&str],
    limit: usize,
) -> Result<Vec<bool>, String> {
    let mut found = vec![false; needles.len()];
    let keep = needles
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(0)
        .saturating_sub(1);
    let mut window: Vec<u8> = Vec::new();
    let mut read = 0usize;
    while read < limit {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Err(format!("reading the body failed: {}", errors::describe(&e))),
        };
        let take = chunk.len().min(limit - read);
        read += take;
        if found.iter().all(|f| *f) {
            continue;
        }
        window.extend_from_slice(&chunk[..take]);
        for (needle, seen) in needles.iter().zip(found.iter_mut()) {
            *seen = *seen || contains(&window, needle.as_bytes());
        }
        let drop = window.len().saturating_sub(keep);
        window.drain(..drop);
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
