//! The one place where errors become HTTP responses. Clients get a clear message; the cause
//! chain goes to the log, never to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// Well-formed but impossible (e.g. a status change that cannot happen).
    #[error("{0}")]
    Unprocessable(String),
    #[error("the service is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// The body did not arrive in time; the message says within what.
    #[error("{0}")]
    RequestTimeout(String),
    /// The body is not in a format the endpoint reads; the message says which it takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("internal error")]
    Internal(anyhow::Error),
}

/// A write that could not be kept because the storage refuses writes (the disk is full, the
/// database is read-only, an I/O error): the service is unavailable, with that cause, until a
/// write commits again. The writer reports it; the edge answers 503.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StorageUnavailable(pub String);

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast_ref::<StorageUnavailable>() {
            Some(cause) => Self::Unavailable(cause.0.clone()),
            None => Self::Internal(e),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(e) = self {
            tracing::error!(error = format!("{e:#}"), "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer realm=\"signalfire\""));
        }
        response.json(json!({ "error": self.to_string() }))
    }
}
