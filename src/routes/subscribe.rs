//! `/subscribe`, `/subscribe/confirm`, `/subscribe/manage`, `/unsubscribe`: e-mail updates for
//! clients (SPEC §7), when `[subscribers] email = true`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::admin::{page, read_form};
use super::{client, not_found};
use crate::error::AppError;
use crate::state::AppState;
use crate::subscribers::{self, Confirmation};
use crate::views::subscribe as view;

/// Tokens are 64 hex digits; anything else is no token at all.
const TOKEN_LENGTH: usize = 64;

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

impl TokenQuery {
    fn token(&self) -> Option<String> {
        self.token
            .clone()
            .filter(|t| t.len() == TOKEN_LENGTH && t.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

/// Subscriptions are off: there is nothing at these addresses.
fn off(state: &AppState) -> Option<HttpResponse> {
    (!state.config.notify.subscribers).then(|| not_found::page(state))
}

fn invalid_link() -> AppError {
    AppError::NotFound(
        "this link is not valid (any more); sign up again from the status page".into(),
    )
}

/// Monitor ids ticked in a form (`component.<id>`), known ones only, with their rows.
fn chosen(state: &AppState, values: &crate::views::admin::FormValues) -> (Vec<String>, Vec<i64>) {
    values
        .with_prefix("component.")
        .filter_map(|(key, _)| Some((key.to_string(), state.components.row(key)?)))
        .unzip()
}

pub async fn form(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let choices = state.choices();
    page(&state, StatusCode::OK, move |site| {
        view::form(site, &choices, "", &[], None)
    })
    .await
}

pub async fn sign_up(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let values = read_form(payload).await?;
    let (keys, rows) = chosen(&state, &values);
    let email = match subscribers::address(values.value("email")) {
        Ok(email) => email,
        Err(error) => {
            let (typed, choices) = (values.value("email").to_string(), state.choices());
            return page(&state, StatusCode::BAD_REQUEST, move |site| {
                view::form(site, &choices, &typed, &keys, Some(&error))
            })
            .await;
        }
    };
    let client = client::address(&req, &state.config.server.trusted_proxies);
    if !state.sign_ups.allow(client) {
        return Err(AppError::TooManyRequests(
            "too many sign-ups from your address; try again in a few minutes".into(),
        ));
    }
    let (config, now) = (state.config.clone(), state.clock.now());
    state
        .writer
        .run(move |tx| Ok(subscribers::sign_up(tx, &config, &email, &rows, now)?))
        .await?;
    state.notifier.wake();
    page(&state, StatusCode::OK, view::check_inbox).await
}

/// The confirmation link's token and where it stands: read only, by the button's page and by
/// its POST alike.
async fn confirmation(
    query: &TokenQuery,
    state: &AppState,
) -> Result<(String, Confirmation), AppError> {
    let token = query.token().ok_or_else(invalid_link)?;
    let lookup = token.clone();
    let found = state
        .db
        .read(move |c| Ok(subscribers::confirmation(c, &lookup)?))
        .await?;
    Ok((token, found))
}

/// `GET /subscribe/confirm?token=…`: the link in the mail shows a button and writes nothing
/// (mail scanners follow links; double opt-in needs a person).
pub async fn confirm_form(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let (token, found) = confirmation(&query, &state).await?;
    if found == Confirmation::Unknown {
        return Err(invalid_link());
    }
    page(&state, StatusCode::OK, move |site| {
        view::confirm_button(site, &token)
    })
    .await
}

/// `POST /subscribe/confirm?token=…`: confirms. Idempotent and bounded: a link confirmed
/// already is only read, so a flood of it writes nothing.
pub async fn confirm(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let (token, found) = confirmation(&query, &state).await?;
    let manage = match found {
        Confirmation::Unknown => return Err(invalid_link()),
        Confirmation::Done(manage) => manage,
        Confirmation::Pending => {
            let now = state.clock.now();
            state
                .writer
                .run(move |tx| Ok(subscribers::confirm(tx, &token, now)?))
                .await?
                .ok_or_else(invalid_link)?
        }
    };
    let link = format!("/subscribe/manage?token={manage}");
    page(&state, StatusCode::OK, move |site| {
        view::confirmed(site, &link)
    })
    .await
}

pub async fn manage_form(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let token = query.token().ok_or_else(invalid_link)?;
    let lookup = token.clone();
    let subscriber = state
        .db
        .read(move |c| Ok(subscribers::by_manage_token(c, &lookup)?))
        .await?
        .ok_or_else(invalid_link)?;
    let choices = state.choices();
    page(&state, StatusCode::OK, move |site| {
        view::manage(
            site,
            &token,
            &subscriber.email,
            &choices,
            &subscriber.components,
            false,
        )
    })
    .await
}

pub async fn manage(
    query: web::Query<TokenQuery>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let token = query.token().ok_or_else(invalid_link)?;
    let values = read_form(payload).await?;
    if values.value("action") == "unsubscribe" {
        return unsubscribe_now(&state, token).await;
    }
    let (_, rows) = chosen(&state, &values);
    let job_token = token.clone();
    let subscriber = state
        .writer
        .run(move |tx| Ok(subscribers::set_components(tx, &job_token, &rows)?))
        .await?
        .ok_or_else(invalid_link)?;
    let choices = state.choices();
    page(&state, StatusCode::OK, move |site| {
        view::manage(
            site,
            &token,
            &subscriber.email,
            &choices,
            &subscriber.components,
            true,
        )
    })
    .await
}

/// `GET /unsubscribe?token=…`: a button (mail clients and scanners fetch links).
pub async fn unsubscribe_form(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let token = query.token().ok_or_else(invalid_link)?;
    page(&state, StatusCode::OK, move |site| {
        view::unsubscribe_button(site, &token)
    })
    .await
}

/// `POST /unsubscribe?token=…`: RFC 8058 one-click — no cookie, no form token, idempotent.
pub async fn unsubscribe(
    query: web::Query<TokenQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if let Some(off) = off(&state) {
        return Ok(off);
    }
    let token = query.token().ok_or_else(invalid_link)?;
    unsubscribe_now(&state, token).await
}

async fn unsubscribe_now(state: &AppState, token: String) -> Result<HttpResponse, AppError> {
    let removed = state
        .writer
        .run(move |tx| Ok(subscribers::unsubscribe(tx, &token)?))
        .await?;
    // One-click senders want a 200 either way; the page says honestly what happened.
    page(state, StatusCode::OK, move |site| {
        view::unsubscribed(site, removed)
    })
    .await
}
