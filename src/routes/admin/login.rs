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

/// The cookie that marks a browser the owner logged in from ([`auth::device_cookie`]): its
/// login attempts are checked in their own lane, never behind strangers' guesses.
const DEVICE_COOKIE: &str = "signalfire_device";

/// Seconds a shed login attempt is told to wait (`Retry-After`).
const RETRY_SHED_SECONDS: &str = "5";

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
    let lane = match (&hash, req.cookie(DEVICE_COOKIE)) {
        (Some(hash), Some(device))
            if auth::known_device(hash, device.value(), state.clock.now()) =>
        {
            auth::Lane::KnownDevice
        }
        _ => auth::Lane::Stranger,
    };
    let password_ok = match hash {
        Some(hash) => {
            let Some(permit) = state.sessions.check_permit(lane).await else {
                // Not checked, so not counted as a failure.
                state.sessions.succeeded(ip);
                tracing::debug!(client = %ip, ?lane, "login shed: the password checks' queue is full");
                let message =
                    "The server is busy checking other logins. Try again in a few seconds.";
                let mut response = page(
                    &state,
                    StatusCode::SERVICE_UNAVAILABLE,
                    &expected,
                    &username,
                    Some(message),
                )
                .await?;
                response.headers_mut().insert(
                    actix_web::http::header::RETRY_AFTER,
                    actix_web::http::header::HeaderValue::from_static(RETRY_SHED_SECONDS),
                );
                return Ok(response);
            };
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
    let device = match &state.config.admin.password_hash {
        Some(hash) => {
            let mut device = cookie(
                &state,
                DEVICE_COOKIE,
                auth::device_cookie(hash, state.clock.now())?,
            );
            device.set_max_age(actix_web::cookie::time::Duration::seconds(
                auth::DEVICE_LIFETIME.as_secs() as i64,
            ));
            Some(device)
        }
        None => None,
    };
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
    if let Some(device) = device {
        response
            .add_cookie(&device)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
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
