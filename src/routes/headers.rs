//! Headers on every answer: what the browser may do with the page (CSP, frames, features,
//! opener and resource policies), HSTS when the page is served over https, and CORS for the
//! public read endpoints, so a widget on another site can read the status.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;

use crate::state::AppState;

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const PERMISSIONS: &str = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";
/// A year: browsers remember to use https only.
const HSTS: &str = "max-age=31536000";

/// Paths any site may read from a browser: the Statuspage API, feeds, badges, the API
/// document.
fn public_read(path: &str) -> bool {
    path.starts_with("/api/v2/")
        || path.starts_with("/badge/")
        || path.starts_with("/components/")
        || path == "/maintenance.ics"
        || path == "/api/openapi.json"
        || matches!(
            path,
            "/feed.rss" | "/feed.atom" | "/history.rss" | "/history.atom"
        )
}

pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let public = public_read(req.path());
    let https = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.config.server.base_url.scheme() == "https");
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    let mut set = |name: &'static str, value: &'static str| {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "same-origin");
    set("x-frame-options", "DENY");
    set("content-security-policy", CSP);
    set("permissions-policy", PERMISSIONS);
    set("cross-origin-opener-policy", "same-origin");
    if public {
        set("access-control-allow-origin", "*");
        set("cross-origin-resource-policy", "cross-origin");
    } else {
        set("cross-origin-resource-policy", "same-origin");
    }
    if https {
        set("strict-transport-security", HSTS);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::public_read;

    #[test]
    fn the_public_read_endpoints_are_the_ones_for_widgets() {
        for path in [
            "/api/v2/summary.json",
            "/feed.atom",
            "/components/blog/feed.rss",
            "/badge/blog.svg",
            "/api/openapi.json",
        ] {
            assert!(public_read(path), "{path}");
        }
        for path in [
            "/",
            "/admin",
            "/api/admin/incidents",
            "/subscribe",
            "/metrics",
        ] {
            assert!(!public_read(path), "{path}");
        }
    }
}
