//! The owner's JSON API under `/api/admin`: bearer token, JSON in and out, Statuspage shapes.

mod incidents;
mod maintenances;
pub mod notify;

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, web};

use crate::auth;
use crate::db;
use crate::domain::limit::Verdict;
use crate::error::AppError;
use crate::incidents::IncidentError;
use crate::render::statuspage;
use crate::routes::{blocking, client, json_body};
use crate::state::AppState;
use crate::writer::Tx;

/// How long an owner's write waits for the pages to show it before answering anyway.
const SETTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

pub use incidents::{
    create as create_incident, delete as delete_incident, patch as patch_incident, post_update,
};
pub use maintenances::{
    create as create_maintenance, delete as cancel_maintenance, patch as patch_maintenance,
};

/// Proof that the request carries the admin token. Checked before the body is read.
pub struct Admin;

impl FromRequest for Admin {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(check_token(req))
    }
}

/// The bearer token, with wrong ones counted per client: after [`auth::MAX_WRONG_TOKENS`] in a
/// minute the client's wrong tokens get 429 instead of 401, and the log says so once. The right
/// token always works, so strangers guessing from a shared address cannot lock the owner out
/// (with 24 characters at least, telling a right guess apart gives nothing away).
fn check_token(req: &HttpRequest) -> Result<Admin, AppError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return Err(AppError::Unauthorized);
    };
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    // No token at all is no guess.
    let Some(header) = header else {
        return Err(AppError::Unauthorized);
    };
    if auth::bearer_matches(Some(header), state.config.admin.token_sha256.as_ref()) {
        return Ok(Admin);
    }
    let client = client::address(req, &state.config.server.trusted_proxies);
    match state.sessions.wrong_token(client) {
        Verdict::Allowed => {
            tracing::warn!(client = %client, path = req.path(), "admin API: wrong token");
            Err(AppError::Unauthorized)
        }
        Verdict::Refused { first } => {
            if first {
                tracing::warn!(
                    client = %client,
                    limit = auth::MAX_WRONG_TOKENS,
                    "admin API: too many wrong tokens; refusing this client for a minute"
                );
            }
            Err(AppError::TooManyRequests(
                "too many wrong tokens from your address; wait a minute".into(),
            ))
        }
    }
}

/// Runs an owner's change in one write transaction (rolled back on refusal), then waits until
/// the public pages show it, so the owner sees their change at once.
pub async fn change<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&mut Tx<'_>) -> Result<T, IncidentError> + Send + 'static,
{
    let value = state
        .writer
        .run(move |tx| f(tx).map_err(anyhow::Error::from))
        .await
        .map_err(|e| match e.downcast::<IncidentError>() {
            Ok(refused) => AppError::from(refused),
            Err(other) => AppError::from(other),
        })?;
    // The change is saved: a slow render must not make the client retry it.
    if tokio::time::timeout(SETTLE_WAIT, state.settled_for_owner())
        .await
        .is_err()
    {
        tracing::warn!("the pages did not show an owner's change within 5 s; they will");
    }
    Ok(value)
}

/// Reads a JSON body and checks it into a typed request on the blocking pool (where the note's
/// Markdown is rendered: long notes take a while).
pub async fn read_request<B, R, F>(
    req: &HttpRequest,
    payload: web::Payload,
    state: &web::Data<AppState>,
    parse: F,
) -> Result<R, AppError>
where
    B: serde::de::DeserializeOwned + Send + 'static,
    R: Send + 'static,
    F: FnOnce(&AppState, B) -> Result<R, IncidentError> + Send + 'static,
{
    let body: B = json_body::read(req, payload).await?;
    let state = state.clone();
    Ok(blocking(move || parse(&state, body)).await??)
}

/// The incident in Statuspage's shape, as the API answers.
pub async fn incident_json(
    state: &AppState,
    id: i64,
) -> Result<statuspage::IncidentJson, AppError> {
    let record = state
        .db
        .read(move |c| Ok(db::incidents::get(c, id)?))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no incident with id {id}")))?;
    let base = state.config.base_url();
    Ok(statuspage::incident_json(
        &record,
        &base,
        &statuspage::page_id(&state.config),
    ))
}

/// Incident ids in paths are numbers; anything else is simply not found.
pub fn parse_id(text: &str) -> Result<i64, AppError> {
    parse_id_of("incident", text)
}

/// An id in a path: a number, or simply not found ("no {what} with id …").
pub fn parse_id_of(what: &str, text: &str) -> Result<i64, AppError> {
    text.parse()
        .map_err(|_| AppError::NotFound(format!("no {what} with id {text}")))
}
