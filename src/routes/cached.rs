//! Serving a rendered file: gzipped when the client takes it (compressed once per change, not
//! per request), with validators per representation, and 304 when the client's copy is current.

use std::time::SystemTime;

use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpRequest, HttpResponse};

use crate::render::Rendered;

/// How long browsers, feed readers and CDNs may reuse a response.
const MAX_AGE_SECONDS: u32 = 60;
/// A year: the longest any cache is asked to keep a file whose URL names its version.
const IMMUTABLE_SECONDS: u32 = 365 * 86_400;

/// Answers with the cached file, or 304 Not Modified when the client's copy is current.
pub fn respond(req: &HttpRequest, file: &Rendered) -> HttpResponse {
    respond_for(req, file, MAX_AGE_SECONDS, "")
}

/// [`respond`] for a file whose URL changes with its content (`?v=` hashes): kept a year.
pub fn respond_immutable(req: &HttpRequest, file: &Rendered) -> HttpResponse {
    respond_for(req, file, IMMUTABLE_SECONDS, ", immutable")
}

fn respond_for(req: &HttpRequest, file: &Rendered, max_age: u32, extra: &str) -> HttpResponse {
    let gzip = accepts_gzip(req);
    let etag = if gzip { &file.gzip_etag } else { &file.etag };
    let last_modified = HttpDate::from(SystemTime::from(file.last_modified));
    let fresh = is_fresh(req, etag, file);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::LAST_MODIFIED, last_modified.to_string()))
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={max_age}{extra}"),
        ))
        .insert_header((header::VARY, "Accept-Encoding"));
    if fresh {
        return response.finish();
    }
    response.content_type(file.content_type);
    if gzip {
        response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(file.gzip.clone())
    } else {
        response.body(file.body.clone())
    }
}

/// True when `Accept-Encoding` takes gzip with a non-zero quality: gzip's own, or `*`'s when
/// gzip is not named (RFC 9110 §12.5.3: `gzip;q=0, *` refuses gzip).
fn accepts_gzip(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut gzip = None;
    let mut any = None;
    for coding in value.split(',') {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            gzip = Some(quality);
        } else if name == "*" {
            any = Some(quality);
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

/// RFC 9110: If-None-Match wins over If-Modified-Since.
fn is_fresh(req: &HttpRequest, etag: &str, file: &Rendered) -> bool {
    if let Some(value) = req.headers().get(header::IF_NONE_MATCH) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        return value
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == "*" || tag == etag);
    }
    if let Some(since) = req.headers().get(header::IF_MODIFIED_SINCE) {
        let since = since.to_str().ok().and_then(|s| s.parse::<HttpDate>().ok());
        if let Some(since) = since {
            let since = SystemTime::from(since);
            let modified = SystemTime::from(file.last_modified);
            // HTTP dates have whole seconds.
            let seconds = |t: SystemTime| {
                t.duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0)
            };
            return seconds(modified) <= seconds(since);
        }
    }
    false
}
