//! `GET /badge/{monitor_id}.svg[?label=…]`: a shields-style status badge.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{blocking, cached};
use crate::error::AppError;
use crate::render::badge;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Query {
    label: Option<String>,
}

pub async fn get(
    req: HttpRequest,
    file: web::Path<String>,
    query: web::Query<Query>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let unknown = || AppError::NotFound("no component with this id".into());
    let key = file.strip_suffix(".svg").ok_or_else(unknown)?;
    let Some(label) = query.into_inner().label.filter(|l| !l.trim().is_empty()) else {
        let cached_badge = state
            .renderer
            .cache()
            .get(&format!("badge/{key}.svg"))
            .ok_or_else(unknown)?;
        return Ok(cached::respond(&req, &cached_badge));
    };
    let snapshot = state.renderer.cache().snapshot().ok_or_else(unknown)?;
    let component = snapshot
        .components
        .iter()
        .find(|c| c.monitor.key == key)
        .ok_or_else(unknown)?;
    let status = component.known_status();
    let svg = blocking(move || badge::svg(&label, status)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=60"))
        .content_type(badge::SVG)
        .body(svg))
}
