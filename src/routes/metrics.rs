//! `GET /metrics`: Prometheus text exposition (OpenMetrics).

use actix_web::{HttpResponse, web};

use super::blocking;
use crate::error::AppError;
use crate::state::AppState;

pub async fn get(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let metrics = state.metrics.clone();
    // Thousands of monitors make a long text: written off the async executor.
    let text = blocking(move || metrics.render()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(text))
}
