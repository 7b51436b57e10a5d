//! `GET /healthz`: 200 while the server and its database answer and writes are kept, 503
//! with the cause otherwise (the database does not answer; no write can be kept: disk full,
//! read-only, I/O errors — until a write commits again).

use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// A database that does not answer within this is reported unhealthy.
const DB_DEADLINE: Duration = Duration::from_secs(2);

pub async fn get(state: web::Data<AppState>) -> HttpResponse {
    let answers = tokio::time::timeout(DB_DEADLINE, state.db.ping())
        .await
        .unwrap_or(false);
    let problem = if answers {
        state.writer.failing()
    } else {
        Some("database unavailable".to_string())
    };
    let mut response = match problem {
        None => HttpResponse::Ok(),
        Some(_) => HttpResponse::ServiceUnavailable(),
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(problem.unwrap_or_else(|| "ok".to_string()))
}
