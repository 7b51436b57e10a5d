//! `GET /metrics`: Prometheus text exposition (OpenMetrics).

use actix_web::{HttpResponse, web};

use crate::state::AppState;

pub async fn get(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.render())
}
