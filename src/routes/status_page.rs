//! `GET /`: the status page, from the render cache.

use actix_web::{HttpRequest, HttpResponse, web};

use super::cached;
use crate::error::AppError;
use crate::state::AppState;

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let page = state.renderer.cache().get("index.html").ok_or_else(|| {
        AppError::Unavailable("the page is being rendered; try again in a moment".into())
    })?;
    let mut response = cached::respond(&req, &page);
    // Feed readers and aggregators find the feeds without parsing the page.
    let base = state.config.base_url();
    let link = format!(
        "<{base}/feed.atom>; rel=\"alternate\"; type=\"application/atom+xml\", \
         <{base}/feed.rss>; rel=\"alternate\"; type=\"application/rss+xml\", \
         <{base}/feed.json>; rel=\"alternate\"; type=\"application/feed+json\""
    );
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&link) {
        response
            .headers_mut()
            .insert(actix_web::http::header::LINK, value);
    }
    Ok(response)
}
