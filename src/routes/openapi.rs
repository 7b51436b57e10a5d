//! `GET /api/openapi.json`: the OpenAPI 3.1 description of every endpoint, written by hand in
//! `assets/openapi.json` and embedded in the binary. Served like the other public JSON: gzipped
//! once, with validators, and 304 when the client's copy is current.

use std::sync::OnceLock;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;

use super::{blocking, cached};
use crate::error::AppError;
use crate::render::Rendered;
use crate::render::cache::File;
use crate::render::site::JSON;
use crate::state::AppState;

const DOCUMENT: &str = include_str!("../../assets/openapi.json");

/// The document with its gzip and validators: built on the first request (it only changes
/// with the binary), then shared by every worker.
static RENDERED: OnceLock<Rendered> = OnceLock::new();

pub async fn get(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let document = match RENDERED.get() {
        Some(document) => document,
        None => {
            let now = state.clock.now();
            let file = File {
                path: "api/openapi.json".to_string(),
                content_type: JSON,
                body: Bytes::from_static(DOCUMENT.as_bytes()),
            };
            // Gzipping takes a moment: off the executor, like every render.
            let rendered = blocking(move || Rendered::new(file, now)).await?;
            RENDERED.get_or_init(|| rendered)
        }
    };
    Ok(cached::respond(&req, document))
}
