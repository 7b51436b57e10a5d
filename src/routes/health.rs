//! `GET /healthz`: 200 while the server and its database answer, 503 otherwise.

use std::time::Duration;

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// A database that does not answer within this is reported unhealthy.
const DB_DEADLINE: Duration = Duration::from_secs(2);

pub async fn get(state: web::Data<AppState>) -> HttpResponse {
    let healthy = tokio::time::timeout(DB_DEADLINE, state.db.ping())
        .await
        .unwrap_or(false);
    let mut response = if healthy {
        HttpResponse::Ok()
    } else {
        HttpResponse::ServiceUnavailable()
    };
    response
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(if healthy {
            "ok"
        } else {
            "database unavailable"
        })
}
