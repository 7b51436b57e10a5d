//! `GET|POST /ping/{token}` and `/ping/{token}/fail`: heartbeats from background jobs.

use std::time::Instant;

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::monitoring::heartbeat;
use crate::state::AppState;

/// Pings one heartbeat takes per minute; more are refused (429) and change nothing.
pub const PINGS_PER_MINUTE: usize = 60;

async fn record(state: &AppState, token: &str, failed: bool) -> Result<HttpResponse, AppError> {
    let monitor = state
        .roster
        .heartbeat_by_token(token)
        .ok_or_else(|| AppError::NotFound("no heartbeat monitor has this token".into()))?;
    if !state.pings.allow(monitor.row, Instant::now()).allowed() {
        return Err(AppError::TooManyRequests(format!(
            "more than {PINGS_PER_MINUTE} pings a minute for this heartbeat; ping once per run"
        )));
    }
    heartbeat::ping(&state.checker, &monitor, failed).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("ok\n"))
}

pub async fn ok(
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    record(&state, &token, false).await
}

pub async fn fail(
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    record(&state, &token, true).await
}
