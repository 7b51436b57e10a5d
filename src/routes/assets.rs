//! `/assets/{name}`: the stylesheet and icon, embedded in the binary.

use actix_web::{HttpResponse, web};

use crate::assets;
use crate::error::AppError;

pub async fn get(name: web::Path<String>) -> Result<HttpResponse, AppError> {
    let asset =
        assets::find(&name).ok_or_else(|| AppError::NotFound(format!("no asset named {name}")))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .content_type(asset.content_type)
        .body(asset.body))
}
