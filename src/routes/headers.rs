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
        || path == "/widget.json"
        || matches!(
            path,
            "/feed.rss"
                | "/feed.atom"
                | "/feed.json"
                | "/history.rss"
                | "/history.atom"
                | "/maintenance.ics"
        )
}

/// The CSP of `/embed`: the page's own, but framable from `[page] embed_origins` (any when
/// empty); every other page refuses all frames.
fn embed_csp(origins: &[String]) -> String {
    let ancestors = if origins.is_empty() {
        "*".to_string()
    } else {
        origins.join(" ")
    };
    CSP.replace(
        "frame-ancestors 'none'",
        &format!("frame-ancestors {ancestors}"),
    )
}

pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let public = public_read(req.path());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let https = state
        .as_ref()
        .is_some_and(|s| s.config.server.base_url.scheme() == "https");
    let embed = (req.path() == "/embed").then(|| {
        embed_csp(
            state
                .as_ref()
                .map_or(&[][..], |s| &s.config.page.embed_origins),
        )
    });
    let framable = embed.is_some();
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    if let Some(csp) = embed.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(HeaderName::from_static("content-security-policy"), csp);
    }
    let mut set = |name: &'static str, value: &'static str| {
        let name = HeaderName::from_static(name);
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set("x-content-type-options", "nosniff");
    set("referrer-policy", "same-origin");
    if !framable {
        set("x-frame-options", "DENY");
    }
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
    use super::{embed_csp, public_read};

    #[test]
    fn the_embed_may_be_framed_by_the_configured_origins_only() {
        assert!(
            embed_csp(&[]).contains("frame-ancestors *;")
                || embed_csp(&[]).ends_with("frame-ancestors *")
        );
        let csp = embed_csp(&["https://shop.example.com".to_string()]);
        assert!(
            csp.contains("frame-ancestors https://shop.example.com"),
            "{csp}"
        );
        assert!(!csp.contains("frame-ancestors 'none'"), "{csp}");
    }

    #[test]
    fn the_public_read_endpoints_are_the_ones_for_widgets() {
        for path in [
            "/api/v2/summary.json",
            "/feed.atom",
            "/components/blog/feed.rss",
            "/badge/blog.svg",
            "/api/openapi.json",
            "/widget.json",
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
