//! `GET /api/v2/*.json`: the Statuspage-compatible public API, from the render cache.

use actix_web::{HttpRequest, HttpResponse, web};

use super::cached;
use crate::error::AppError;
use crate::state::AppState;

pub async fn get(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let file = path.into_inner();
    let doc = state
        .renderer
        .cache()
        .get(&format!("api/v2/{file}"))
        .filter(|_| file.ends_with(".json"))
        .ok_or_else(|| AppError::NotFound(format!("no API document at /api/v2/{file}")))?;
    Ok(cached::respond(&req, &doc))
}
