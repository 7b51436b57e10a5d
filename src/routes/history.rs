//! `GET /history?page=N`: past incidents by month.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{cached, not_found};
use crate::error::AppError;
use crate::render::pages;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Query {
    page: Option<String>,
}

pub async fn get(
    req: HttpRequest,
    query: web::Query<Query>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let page = match query.page.as_deref().map(str::parse::<u32>) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return Ok(not_found::page(&state)),
    };
    let found = state
        .renderer
        .lazy_page(
            &pages::history_path(page),
            move |config, conn, links, now| pages::history(config, conn, page, links, now),
        )
        .await?;
    Ok(match found {
        Some(found) => cached::respond(&req, &found),
        None => not_found::page(&state),
    })
}
