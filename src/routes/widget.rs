//! `/widget.json` and `/embed`: a banner on the owner's own site, from the render cache.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::cached;
use crate::error::AppError;
use crate::state::AppState;

fn cached_file(state: &AppState, req: &HttpRequest, name: &str) -> Result<HttpResponse, AppError> {
    let file = state.renderer.cache().get(name).ok_or_else(|| {
        AppError::Unavailable("the page is being rendered; try again in a moment".into())
    })?;
    Ok(cached::respond(req, &file))
}

pub async fn json(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    cached_file(&state, &req, "widget.json")
}

#[derive(Deserialize)]
pub struct EmbedQuery {
    /// Any value but `0` or `false`: show "All systems operational" when all is well.
    operational: Option<String>,
}

pub async fn embed(
    req: HttpRequest,
    query: web::Query<EmbedQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let operational = query
        .operational
        .as_deref()
        .is_some_and(|v| !matches!(v, "0" | "false"));
    let name = if operational {
        "embed-operational.html"
    } else {
        "embed.html"
    };
    cached_file(&state, &req, name)
}
