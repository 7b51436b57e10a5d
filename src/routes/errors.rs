//! One HTTP edge: whatever refused a request — a handler, an extractor, actix itself — people
//! get an HTML page in the site's layout, and API clients (`/api/*`) get JSON
//! `{"error": "…"}`. The message is the refusal's own when it is an [`AppError`] (never
//! internals: an internal error says only that), else the status's plain meaning. Endpoints
//! for machines that answer in plain text (pings, health, metrics) keep their answers.

use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use super::blocking;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::{Links, Site, error_page};

/// The middleware: passes answers that already fit, rewrites the ones that do not.
pub async fn one_edge(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    // The decoded path, as the router matches it (`/%61pi/…` is `/api/…`).
    let path = req.match_info().as_str();
    let reader = Reader::of(path);
    let api = reader == Reader::Api;
    let state = req.app_data::<web::Data<AppState>>().cloned();
    // Handlers' and extractors' errors arrive as responses that carry the error.
    let res = next.call(req).await?;
    let status = res.status();
    let refused = status.is_client_error() || status.is_server_error();
    if !refused || reader == Reader::Machine || fits(api, res.headers()) {
        return Ok(res.map_into_left_body());
    }
    let message = message_of(
        res.response()
            .error()
            .and_then(|e| e.as_error::<AppError>()),
        status,
        res.headers(),
    );
    let reply = rewrite(api, state, status, res.headers(), message).await;
    let (request, _) = res.into_parts();
    Ok(ServiceResponse::new(request, reply).map_into_right_body())
}

/// Who reads what a path answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reader {
    /// `/api/…`: JSON errors.
    Api,
    /// Heartbeat pings, health checks and metrics: scripts that read plain text.
    Machine,
    /// Everything else: people, in a browser.
    Person,
}

impl Reader {
    fn of(path: &str) -> Self {
        if path.starts_with("/api/") {
            Self::Api
        } else if path.starts_with("/ping/") || path == "/healthz" || path == "/metrics" {
            Self::Machine
        } else {
            Self::Person
        }
    }
}

/// True when the answer is already what its reader takes: JSON for the API, HTML for people.
fn fits(api: bool, headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if api {
        content_type.starts_with("application/json")
    } else {
        content_type.starts_with("text/html")
    }
}

fn message_of(error: Option<&AppError>, status: StatusCode, headers: &HeaderMap) -> String {
    let allow = headers.get(header::ALLOW).and_then(|v| v.to_str().ok());
    match (error, allow) {
        (Some(e), _) => e.to_string(),
        (None, Some(allow)) if status == StatusCode::METHOD_NOT_ALLOWED => {
            format!("This address does not take that method; it takes {allow}.")
        }
        (None, _) => plain_meaning(status).to_string(),
    }
}

/// What a status means, for a refusal that came with no message of ours.
fn plain_meaning(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "The request could not be read.",
        401 => "Missing or invalid credentials.",
        403 => "This is not allowed.",
        404 => "There is nothing at this address.",
        405 => "This address does not take that method.",
        408 => "The request took too long to arrive.",
        413 => "The request is larger than this server accepts.",
        415 => "The request's content type is not one this address takes.",
        429 => "Too many requests; wait a moment and try again.",
        503 => "The service is not ready yet; try again in a moment.",
        s if s >= 500 => "Something went wrong on our side.",
        _ => "The request could not be handled.",
    }
}

/// A heading for the page of each status.
fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        404 => "Page not found",
        405 => "Method not allowed",
        413 => "Request too large",
        422 => "That cannot be done",
        429 => "Too many requests",
        503 => "Not ready yet",
        s if s >= 500 => "Something went wrong",
        _ => "Request refused",
    }
}

/// The same refusal in the reader's format, keeping headers such as `Allow` and
/// `WWW-Authenticate` (not the old body's type and length).
async fn rewrite(
    api: bool,
    state: Option<web::Data<AppState>>,
    status: StatusCode,
    headers: &HeaderMap,
    message: String,
) -> HttpResponse {
    let mut reply = HttpResponse::build(status);
    for (name, value) in headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            reply.append_header((name.clone(), value.clone()));
        }
    }
    if api {
        return reply.json(serde_json::json!({ "error": message }));
    }
    let page = match state {
        Some(state) => {
            let config = state.config.clone();
            blocking(move || {
                let links = Links::server();
                let site = Site {
                    page: &config.page,
                    links: &links,
                };
                error_page::message(&site, heading(status), &message).into_string()
            })
            .await
            .ok()
        }
        None => None,
    };
    match page {
        Some(page) => reply
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(page),
        None => reply
            .content_type("text/plain; charset=utf-8")
            .body(heading(status)),
    }
}
