//! `GET /incidents/{id}`: one incident's permalink page.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{cached, not_found};
use crate::error::AppError;
use crate::render::pages;
use crate::state::AppState;

pub async fn get(
    req: HttpRequest,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found::page(&state));
    };
    let page = state
        .renderer
        .lazy_page(
            &pages::incident_path(id),
            move |config, conn, links, now| pages::incident(config, conn, id, links, now),
        )
        .await?;
    Ok(match page {
        Some(page) => cached::respond(&req, &page),
        None => not_found::page(&state),
    })
}
