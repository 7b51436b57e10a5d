//! The `http` kind: status code, keywords in a streamed and capped body, a hard deadline,
//! redirects (loops reported), certificate expiry. Its keys are read in `keys.rs`.

mod keys;

use super::errors::{MAX_REDIRECTS, RedirectLoop, TooManyRedirects};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use reqwest::Response;
use reqwest::redirect::Policy;
use url::Url;

use super::{Kind, Probe, Tools, errors, tls};
use crate::domain::check::CheckResult;
use crate::domain::duration::format_duration;

/// The `http` kind (the default).
pub const KIND: Kind = Kind {
    name: "http",
    keys: keys::KEYS,
    parse: keys::parse,
};

/// Which HTTP status codes count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusMatcher {
    /// Any 2xx or 3xx after redirects.
    SuccessOrRedirect,
    /// One of these inclusive ranges.
    Ranges(Vec<(u16, u16)>),
}

impl StatusMatcher {
    pub fn accepts(&self, status: u16) -> bool {
        match self {
            Self::SuccessOrRedirect => (200..400).contains(&status),
            Self::Ranges(ranges) => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&status)),
        }
    }
}

/// An HTTP(S) check.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpProbe {
    pub url: Url,
    /// GET, HEAD, POST, …
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub expect_status: StatusMatcher,
    /// A keyword that must appear in the body.
    pub expect_body: Option<String>,
    /// Text that must not appear (an error page's words).
    pub expect_body_absent: Option<String>,
    pub follow_redirects: bool,
    /// Off only for hosts whose certificate cannot be trusted on purpose.
    pub tls_verify: bool,
    /// An extra CA (PEM) to trust besides the system roots, resolved from the config's folder.
    pub tls_ca_file: Option<PathBuf>,
    /// Degraded when the certificate expires sooner than this.
    pub tls_expiry_warn: Option<Duration>,
    /// The most of the body a check reads.
    pub max_body: usize,
}

impl Probe for HttpProbe {
    fn kind(&self) -> &'static str {
        "http"
    }

    /// The URL without its user, password, query and fragment (where tokens live).
    fn target(&self) -> String {
        redacted(&self.url)
    }

    fn prepare(&self, tools: &mut Tools) -> anyhow::Result<()> {
        let key = ClientKey::of(self);
        if let std::collections::hash_map::Entry::Vacant(slot) = tools.http.entry(key) {
            let client = build_client(slot.key())?;
            slot.insert(client);
        }
        Ok(())
    }

    fn check<'a>(&'a self, tools: &'a Tools, timeout: Duration) -> BoxFuture<'a, CheckResult> {
        Box::pin(async move {
            match tools.http.get(&ClientKey::of(self)) {
                Some(client) => check(client, self, timeout).await,
                None => CheckResult::down(Utc::now(), Duration::ZERO, "no HTTP client prepared"),
            }
        })
    }
}

/// A URL as people may see it: no user, password, query or fragment.
pub fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// HTTP clients differ only in these; one client per combination, built once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct ClientKey {
    follow_redirects: bool,
    tls_verify: bool,
    tls_ca_file: Option<PathBuf>,
}

impl ClientKey {
    fn of(http: &HttpProbe) -> Self {
        Self {
            follow_redirects: http.follow_redirects,
            tls_verify: http.tls_verify,
            tls_ca_file: http.tls_ca_file.clone(),
        }
    }
}

fn build_client(key: &ClientKey) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!(
            "signalfire/",
            env!("CARGO_PKG_VERSION"),
            " (status checker)"
        ))
        .redirect(redirect_policy(key.follow_redirects))
        .dns_resolver(std::sync::Arc::new(super::resolve::SystemResolver))
        .tls_info(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .tls_danger_accept_invalid_certs(!key.tls_verify);
    if let Some(path) = &key.tls_ca_file {
        let certs = tls::read_ca_file(path)?
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| {
                format!("tls_ca_file {} holds no usable certificate", path.display())
            })?;
        builder = builder.tls_certs_merge(certs);
    }
    builder.build().context("cannot build the HTTP client")
}

pub fn redirect_policy(follow: bool) -> Policy {
    if !follow {
        return Policy::none();
    }
    Policy::custom(|attempt| {
        if attempt.previous().iter().any(|seen| seen == attempt.url()) {
            // The reason is public: the URL goes without its query and credentials.
            let url = redacted(attempt.url());
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
    tls::expiry_verdict(probe.tls_expiry_warn, not_after)
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
    tls::not_after(info.peer_certificate()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_shown_to_people_carry_no_credentials() {
        let url = Url::parse("https://user:secret@example.com/health?token=abc#x").expect("url");
        assert_eq!(redacted(&url), "https://example.com/health");
    }

    #[test]
    fn default_status_matcher_takes_2xx_and_3xx() {
        let m = StatusMatcher::SuccessOrRedirect;
        assert!(m.accepts(200) && m.accepts(204) && m.accepts(302));
        assert!(!m.accepts(404) && !m.accepts(500) && !m.accepts(199));
    }

    #[test]
    fn ranges_are_inclusive() {
        let m = StatusMatcher::Ranges(vec![(200, 200), (401, 403)]);
        assert!(m.accepts(200) && m.accepts(401) && m.accepts(403));
        assert!(!m.accepts(201) && !m.accepts(404));
    }

    #[test]
    fn finds_keywords_and_accepts_empty_ones() {
        assert!(contains(b"hello world", b"o w"));
        assert!(!contains(b"hello", b"world"));
        assert!(contains(b"", b""));
    }
}
