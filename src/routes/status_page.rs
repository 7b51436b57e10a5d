//! `GET /`: the status page, from the render cache.

use actix_web::{HttpRequest, HttpResponse, web};

use super::cached;
use crate::error::AppError;
use crate::state::AppState;

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let page = state.renderer.cache().get("index.html").ok_or_else(|| {
        AppError::Unavailable("the page is being rendered; try again in a moment".into())
    })?;
    Ok(cached::respond(&req, &page))
}
