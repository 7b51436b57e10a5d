//! `GET|POST /ping/{token}`, `/ping/{token}/start`, `/ping/{token}/fail` and
//! `/ping/{token}/{exit_status}`: background jobs report their runs. A ping is answered as
//! soon as it is queued, never after the database — but never while writes cannot be kept
//! (503 then, with the cause); a POST body's first 10 KiB are kept.

use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use super::body::declared_length;
use crate::domain::heartbeat::Signal;
use crate::error::AppError;
use crate::monitoring::heartbeat::{KEPT_BODY_BYTES, kept_body};
use crate::state::AppState;

/// Pings one heartbeat takes per minute; more are refused (429) and change nothing.
pub const PINGS_PER_MINUTE: usize = 60;

/// A ping's body is read up to this much (the rest is left unread and the connection
/// closed): a job may post a long log, of which the first [`KEPT_BODY_BYTES`] are kept.
pub const PING_BODY_LIMIT: usize = 1024 * 1024;

async fn record(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    signal: Signal,
    payload: Option<web::Payload>,
) -> Result<HttpResponse, AppError> {
    let monitor = state
        .roster
        .heartbeat_by_token(token)
        .ok_or_else(|| AppError::NotFound("no heartbeat monitor has this token".into()))?;
    if !state.pings.allow(monitor.row, Instant::now()).allowed() {
        return Err(AppError::TooManyRequests(format!(
            "more than {PINGS_PER_MINUTE} pings a minute for this heartbeat; ping once per run"
        )));
    }
    // Answered 200 only when it can be kept: while no write commits, the job's own retry
    // keeps the ping rather than a queue that would lose it.
    if let Some(cause) = state.writer.failing() {
        return Err(AppError::Unavailable(format!(
            "{cause}; the ping was not recorded, send it again"
        )));
    }
    let (body, whole) = match payload {
        Some(payload) => read_prefix(req, payload).await,
        None => (None, true),
    };
    state
        .ping_queue
        .offer(monitor, signal, body)
        .map_err(|_| AppError::Unavailable("too many pings waiting; try again".into()))?;
    let mut answer = HttpResponse::Ok();
    answer
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; charset=utf-8");
    if !whole {
        // The rest of the body is not read: the connection ends with the answer.
        answer.force_close();
    }
    Ok(answer.body("ok\n"))
}

/// The first [`KEPT_BODY_BYTES`] of a body, and whether it was read to its end. The signal
/// is in the path: a body too long (past [`PING_BODY_LIMIT`]), too slow (past the body
/// deadline) or cut short loses only its tail, never the ping.
async fn read_prefix(req: &HttpRequest, mut payload: web::Payload) -> (Option<String>, bool) {
    let declared = declared_length(req);
    // A body declared longer than the limit is read only as far as what is kept.
    let too_long = declared.is_some_and(|n| n > PING_BODY_LIMIT);
    let mut kept = Vec::with_capacity(KEPT_BODY_BYTES.min(declared.unwrap_or(0)));
    let mut read = 0;
    let whole = loop {
        match payload.next().await {
            None => break true,
            Some(Err(_)) => break false,
            Some(Ok(chunk)) => {
                read += chunk.len();
                let room = KEPT_BODY_BYTES.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if read > PING_BODY_LIMIT || (too_long && kept.len() >= KEPT_BODY_BYTES) {
                    break false;
                }
            }
        }
    };
    (kept_body(&kept), whole)
}

fn signal(tail: &str) -> Result<Signal, AppError> {
    Signal::from_path(tail).ok_or_else(|| {
        AppError::NotFound(format!(
            "no ping named \"{tail}\"; use /ping/{{token}}, /start, /fail or an exit status 0-255"
        ))
    })
}

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (token, tail) = path(&req);
    record(&req, &state, token, signal(tail)?, None).await
}

pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (token, tail) = path(&req);
    record(&req, &state, token, signal(tail)?, Some(payload)).await
}

/// `(token, what follows it)` of `/ping/{token}[/{signal}]`.
fn path(req: &HttpRequest) -> (&str, &str) {
    let info = req.match_info();
    (
        info.get("token").unwrap_or_default(),
        info.get("signal").unwrap_or_default(),
    )
}
