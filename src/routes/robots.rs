//! `GET /robots.txt`: the public page may be indexed; the machinery may not.

use actix_web::HttpResponse;

/// Paths crawlers have no business in: the owner API and heartbeat pings (a crawler that
/// followed a ping link would report a job as run).
const ROBOTS: &str = "User-agent: *\nDisallow: /api/admin/\nDisallow: /ping/\nAllow: /\n";

pub async fn get() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .content_type("text/plain; charset=utf-8")
        .body(ROBOTS)
}
