//! `/maintenance.ics` from the render cache; `/components/{id}/maintenance.ics` rendered on
//! first request (the feeds' route hands it over).

use actix_web::{HttpRequest, HttpResponse, web};

use super::cached;
use crate::error::AppError;
use crate::render::calendar;
use crate::state::AppState;

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let file = state.renderer.cache().get(calendar::FILE).ok_or_else(|| {
        AppError::Unavailable("the calendar is being rendered; try again in a moment".into())
    })?;
    Ok(cached::respond(&req, &file))
}

pub async fn component(
    req: &HttpRequest,
    key: String,
    state: &AppState,
) -> Result<HttpResponse, AppError> {
    let unknown = || AppError::NotFound("no component with this id".into());
    // Known components are in memory: an unknown one costs no database read.
    if state.roster.get(&key).is_none() {
        return Err(unknown());
    }
    let cache_path = calendar::component_path(&key);
    let file = state
        .renderer
        .lazy_page(&cache_path, move |config, conn, _, now| {
            calendar::component(config, conn, &key, now)
        })
        .await?
        .ok_or_else(unknown)?;
    Ok(cached::respond(req, &file))
}
