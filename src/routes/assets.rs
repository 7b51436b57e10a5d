//! `/assets/{name}`: the stylesheet and icon, embedded in the binary and served from the page
//! cache (gzipped, with validators); links carry `?v=` with a hash of the assets.

use actix_web::{HttpRequest, HttpResponse, web};

use super::cached;
use crate::assets;
use crate::error::AppError;
use crate::state::AppState;

#[derive(serde::Deserialize)]
pub struct Query {
    v: Option<String>,
}

pub async fn get(
    req: HttpRequest,
    name: web::Path<String>,
    query: web::Query<Query>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let asset = state
        .renderer
        .cache()
        .get(&format!("assets/{name}"))
        .ok_or_else(|| AppError::NotFound(format!("no asset named {name}")))?;
    // The link names this very version: no cache ever needs to ask again.
    if query.v.as_deref() == Some(assets::version()) {
        return Ok(cached::respond_immutable(&req, &asset));
    }
    Ok(cached::respond(&req, &asset))
}
