//! `GET/POST /admin/login`, `POST /admin/logout`.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{LOGIN_COOKIE, Owner, OwnerForm, SESSION_COOKIE, cookie, csrf_ok, read_form, redirect};
use crate::auth;
use crate::error::AppError;
use crate::routes::client;
use crate::state::AppState;
use crate::views::admin::login;

async fn page(
    state: &AppState,
    status: StatusCode,
    csrf: &str,
    username: &str,
    error: Option<&'static str>,
) -> Result<HttpResponse, AppError> {
    let enabled = state.config.admin.password_hash.is_some();
    let (csrf, username) = (csrf.to_string(), username.to_string());
    super::page(state, status, move |site| {
        login::render(site, &csrf, &username, error, enabled)
    })
    .await
}

/// The login form, with a fresh token in a cookie and in the form (double submit).
pub async fn form(
    owner: Option<Owner>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if owner.is_some() {
        return Ok(redirect("/admin"));
    }
    let token = auth::random_token()?;
    let mut response = page(&state, StatusCode::OK, &token, "", None).await?;
    response
        .add_cookie(&cookie(&state, LOGIN_COOKIE, token))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(response)
}

pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let form = read_form(payload).await?;
    let expected = req
        .cookie(LOGIN_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if expected.is_empty() || !csrf_ok(&form, &expected) {
        return Ok(super::csrf_refused(&state).await);
    }
    let username = form.value("username").to_string();
    let ip = client::address(&req, &state.config.server.trusted_proxies);
    if !state.sessions.begin_attempt(ip) {
        tracing::warn!(client = %ip, "login refused: too many failed attempts");
        let message = "Too many failed logins from your address. Wait a minute and try again.";
        return page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &expected,
            &username,
            Some(message),
        )
        .await;
    }
    let password = form.value("password").to_string();
    let hash = state.config.admin.password_hash.clone();
    let user_ok = auth::same_secret(username.as_bytes(), state.config.admin.username.as_bytes());
    let password_ok = match hash {
        Some(hash) => {
            let permit = state.sessions.verification_permit().await;
            tokio::task::spawn_blocking(move || {
                let _held = permit;
                auth::verify_password(&password, &hash)
            })
            .await
            .map_err(|e| AppError::Internal(e.into()))?
        }
        None => false,
    };
    if !(user_ok && password_ok) {
        tracing::warn!(client = %ip, "failed login");
        return page(
            &state,
            StatusCode::UNAUTHORIZED,
            &expected,
            &username,
            Some("Wrong user name or password."),
        )
        .await;
    }
    state.sessions.succeeded(ip);
    let session = state.sessions.create(state.clock.now())?;
    let mut response = redirect("/admin");
    let mut gone = Cookie::build(LOGIN_COOKIE, "")
        .path(super::COOKIE_PATH)
        .finish();
    gone.make_removal();
    response
        .add_cookie(&cookie(&state, SESSION_COOKIE, session))
        .map_err(|e| AppError::Internal(e.into()))?;
    response
        .add_cookie(&gone)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(response)
}

pub async fn logout(form: OwnerForm, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.sessions.remove(&form.owner.cookie);
    let mut response = redirect("/admin/login");
    let mut gone = Cookie::build(SESSION_COOKIE, "")
        .path(super::COOKIE_PATH)
        .finish();
    gone.make_removal();
    response
        .add_cookie(&gone)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(response)
}
