//! Anything without a route: a JSON error under `/api/`, the 404 page elsewhere.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::state::AppState;

pub async fn handle(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if req.match_info().as_str().starts_with("/api/") {
        return Err(AppError::NotFound(format!(
            "no API endpoint at {}",
            req.path()
        )));
    }
    Ok(page(&state))
}

/// The 404 page for people.
pub fn page(state: &AppState) -> HttpResponse {
    let mut response = HttpResponse::NotFound();
    match state.renderer.cache().get("404.html") {
        Some(page) => response
            .content_type(page.content_type)
            .body(page.body.clone()),
        None => response
            .content_type("text/plain; charset=utf-8")
            .body("404 page not found"),
    }
}
