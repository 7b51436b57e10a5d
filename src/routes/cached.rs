//! Serving a rendered file with validators: ETag, Last-Modified, and 304 when unchanged.

use std::time::SystemTime;

use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpRequest, HttpResponse};

use crate::render::Rendered;

/// How long browsers, feed readers and CDNs may reuse a response.
const MAX_AGE_SECONDS: u32 = 60;

/// Answers with the cached file, or 304 Not Modified when the client's copy is current.
pub fn respond(req: &HttpRequest, file: &Rendered) -> HttpResponse {
    let last_modified = HttpDate::from(SystemTime::from(file.last_modified));
    let fresh = is_fresh(req, file);
    let mut response = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, file.etag.clone()))
        .insert_header((header::LAST_MODIFIED, last_modified.to_string()))
        .insert_header((
            header::CACHE_CONTROL,
            format!("public, max-age={MAX_AGE_SECONDS}"),
        ))
        .insert_header((header::VARY, "Accept-Encoding"));
    if fresh {
        return response.finish();
    }
    response
        .content_type(file.content_type)
        .body(file.body.clone())
}

/// RFC 9110: If-None-Match wins over If-Modified-Since.
fn is_fresh(req: &HttpRequest, file: &Rendered) -> bool {
    if let Some(value) = req.headers().get(header::IF_NONE_MATCH) {
        let Ok(value) = value.to_str() else {
            return false;
        };
        return value
            .split(',')
            .map(|tag| tag.trim().trim_start_matches("W/"))
            .any(|tag| tag == "*" || tag == file.etag);
    }
    if let Some(since) = req.headers().get(header::IF_MODIFIED_SINCE) {
        let since = since.to_str().ok().and_then(|s| s.parse::<HttpDate>().ok());
        if let Some(since) = since {
            let since = SystemTime::from(since);
            let modified = SystemTime::from(file.last_modified.with_timezone(&chrono::Utc));
            // HTTP dates have whole seconds.
            let modified_secs = modified
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let since_secs = since
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            return modified_secs <= since_secs;
        }
    }
    false
}
