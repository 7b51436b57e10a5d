//! `/feed.rss`, `/feed.atom`, `/history.rss`, `/history.atom` from the render cache;
//! `/components/{id}/feed.rss|atom|json` rendered on first request (`maintenance.ics` there is the
//! calendar's).

use actix_web::{HttpRequest, HttpResponse, web};

use super::cached;
use crate::error::AppError;
use crate::render::pages;
use crate::state::AppState;

pub async fn page_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let name = req.path().trim_start_matches('/');
    let feed = state.renderer.cache().get(name).ok_or_else(|| {
        AppError::Unavailable("the feed is being rendered; try again in a moment".into())
    })?;
    Ok(with_hubs(&state, name, cached::respond(&req, &feed)))
}

/// WebSub discovery in the headers too: `Link: <hub>; rel="hub", <feed>; rel="self"`.
fn with_hubs(state: &AppState, path: &str, mut response: HttpResponse) -> HttpResponse {
    if state.config.websub_hubs.is_empty() {
        return response;
    }
    let base = state.config.base_url();
    let mut links: Vec<String> = state
        .config
        .websub_hubs
        .iter()
        .map(|hub| format!("<{hub}>; rel=\"hub\""))
        .collect();
    links.push(format!("<{base}/{path}>; rel=\"self\""));
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&links.join(", ")) {
        response
            .headers_mut()
            .insert(actix_web::http::header::LINK, value);
    }
    response
}

pub async fn component_feed(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (key, file) = path.into_inner();
    if file == crate::render::calendar::FILE {
        return super::calendar::component(&req, key, &state).await;
    }
    let format = match file.as_str() {
        "feed.rss" => "rss",
        "feed.atom" => "atom",
        "feed.json" => "json",
        _ => {
            return Err(AppError::NotFound(format!(
                "no feed named {file}; use feed.rss, feed.atom, feed.json or maintenance.ics"
            )));
        }
    };
    let unknown = || AppError::NotFound("no component with this id".into());
    // Known components are in memory: an unknown one costs no database read.
    if state.roster.get(&key).is_none() {
        return Err(unknown());
    }
    let cache_path = pages::component_feed_path(&key, format);
    let feed = state
        .renderer
        .lazy_page(&cache_path, move |config, conn, _, now| {
            pages::component_feed(config, conn, &key, format, now)
        })
        .await?
        .ok_or_else(unknown)?;
    let path = format!("components/{}/{file}", feed_key(&req));
    Ok(with_hubs(&state, &path, cached::respond(&req, &feed)))
}

/// The component id of a `/components/{id}/…` request.
fn feed_key(req: &HttpRequest) -> String {
    req.match_info().get("id").unwrap_or_default().to_string()
}
