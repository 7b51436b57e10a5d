//! Reading a JSON request body: `Content-Type: application/json` (415 otherwise), capped at
//! 64 KiB (413) and its deadline (408), one JSON value and nothing after it, and every error
//! names the field.

use actix_web::{HttpRequest, web};
use serde::de::DeserializeOwned;

use super::body;
use crate::error::AppError;

/// True for `application/json` and `application/…+json`, with any parameters.
fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|sub| sub.ends_with("+json"))
}

/// Reads and parses the body; errors are 400 naming the field, 408, 413 or 415.
pub async fn read<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, AppError> {
    if !is_json(req) {
        return Err(AppError::UnsupportedMediaType(
            "send the body as JSON with Content-Type: application/json (curl: --json '{...}')"
                .into(),
        ));
    }
    let body = body::read(body::declared_length(req), payload, "the request body").await?;
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => {
            return Err(AppError::BadRequest(
                "the request body is empty; send a JSON object".into(),
            ));
        }
        // serde would read an array into a struct field by field: only objects are requests.
        Some(b'{') => {}
        Some(_) => {
            return Err(AppError::BadRequest(
                "the body must be a JSON object ({...}) with named fields".into(),
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(&body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = without_position(&inner);
        if inner.is_syntax() || inner.is_eof() {
            AppError::BadRequest(format!("the body is not valid JSON: {what}"))
        } else if path.is_empty() || path == "." || path == "?" {
            AppError::BadRequest(what)
        } else {
            AppError::BadRequest(format!("{path}: {what}"))
        }
    })?;
    // One value, then only whitespace: `{"name":"x"} junk` is not JSON.
    de.end().map_err(|e| {
        AppError::BadRequest(format!(
            "the body is not valid JSON: {} after the JSON value",
            without_position(&e)
        ))
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C"; the field name says more.
fn without_position(e: &serde_json::Error) -> String {
    let what = e.to_string();
    what.split(" at line ").next().unwrap_or(&what).to_string()
}
