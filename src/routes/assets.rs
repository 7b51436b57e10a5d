//! `/assets/{name}`: the stylesheet and icon, embedded in the binary and served from the page
//! cache (gzipped, with validators); links carry `?v=` with a hash of the assets.

use actix_web::{HttpRequest, HttpResponse, web};

use super::cached;
use crate::error::AppError;
use crate::state::AppState;

pub async fn get(
    req: HttpRequest,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let asset = state
        .renderer
        .cache()
        .get(&format!("assets/{name}"))
        .ok_or_else(|| AppError::NotFound(format!("no asset named {name}")))?;
    Ok(cached::respond(&req, &asset))
}
