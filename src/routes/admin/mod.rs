//! The owner's web UI under `/admin`: login, session cookie, CSRF token on every form.

mod dashboard;
mod incidents;
pub mod jobs;
mod login;
mod maintenances;
pub mod notifications;

use std::future::{Ready, ready};

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use maud::Markup;

use super::{blocking, body};
use crate::auth;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::admin::{FormState, FormValues};
use crate::views::{Links, Site};

pub use dashboard::get as dashboard;
pub use incidents::{create as create_incident, update as update_incident};
pub use incidents::{
    delete as delete_incident, delete_form as delete_incident_form, detail as incident_detail,
    new_form as new_incident_form,
};
pub use login::{form as login_form, login, logout};
pub use maintenances::{
    cancel as cancel_maintenance, cancel_form as cancel_maintenance_form,
    create as create_maintenance, edit_form as edit_maintenance_form,
};
pub use maintenances::{new_form as new_maintenance_form, save as save_maintenance};

const SESSION_COOKIE: &str = "signalfire_session";
const LOGIN_COOKIE: &str = "signalfire_login";
const COOKIE_PATH: &str = "/admin";

/// A request from a logged-in owner.
pub struct Owner {
    pub cookie: String,
    pub csrf: String,
}

/// No valid session: off to the login page.
#[derive(Debug, thiserror::Error)]
#[error("login required")]
pub struct LoginRequired;

impl ResponseError for LoginRequired {
    fn status_code(&self) -> StatusCode {
        StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::SeeOther()
            .insert_header(("Location", "/admin/login"))
            .finish()
    }
}

impl FromRequest for Owner {
    type Error = LoginRequired;
    type Future = Ready<Result<Self, LoginRequired>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let owner = (|| {
            let state = req.app_data::<web::Data<AppState>>()?;
            let cookie = req.cookie(SESSION_COOKIE)?.value().to_string();
            let session = state.sessions.get(&cookie, state.clock.now())?;
            Some(Owner {
                cookie,
                csrf: session.csrf,
            })
        })();
        ready(owner.ok_or(LoginRequired))
    }
}

/// A form posted by a logged-in owner, its CSRF token checked. Every admin POST takes one,
/// so no handler can forget the check.
pub struct OwnerForm {
    pub owner: Owner,
    pub values: FormValues,
}

/// The form came without its token, or with a stale one: the 403 page, rendered.
#[derive(Debug, thiserror::Error)]
#[error("form refused: missing or stale CSRF token")]
pub struct FormRefused(String);

impl ResponseError for FormRefused {
    fn status_code(&self) -> StatusCode {
        StatusCode::FORBIDDEN
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::Forbidden()
            .insert_header(("Cache-Control", "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(self.0.clone())
    }
}

impl FromRequest for OwnerForm {
    type Error = actix_web::Error;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let owner = Owner::from_request(req, payload).into_inner();
        let body = web::Payload::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        Box::pin(async move {
            let owner = owner?;
            let values = read_form(body.await?).await?;
            if !csrf_ok(&values, &owner.csrf) {
                let page = match state {
                    Some(state) => csrf_refused_page(&state).await,
                    None => String::new(),
                };
                return Err(FormRefused(page).into());
            }
            Ok(OwnerForm { owner, values })
        })
    }
}

/// A cookie for the admin area: HttpOnly, SameSite=Strict, Secure when served over https.
pub fn cookie<'c>(state: &AppState, name: &'c str, value: String) -> Cookie<'c> {
    Cookie::build(name, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.server.base_url.scheme() == "https")
        .finish()
}

/// Reads an urlencoded form, at most 64 KiB.
pub async fn read_form(payload: web::Payload) -> Result<FormValues, AppError> {
    let body = body::read(None, payload, "the form").await?;
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
        .map(FormValues)
        .map_err(|e| AppError::BadRequest(format!("the form could not be read: {e}")))
}

/// After a preview (`None`) or a refused save: keeps the error for the page, renders the note
/// for the preview box (off the executor), and returns the status to answer with.
pub async fn refill(form: &mut FormState, refused: Option<AppError>) -> StatusCode {
    let status = refused
        .as_ref()
        .map_or(StatusCode::OK, ResponseError::status_code);
    form.error = refused.map(|e| e.to_string());
    let body = form.values.value("body").to_string();
    form.preview = blocking(move || crate::markdown::render(&body)).await.ok();
    status
}

/// True when the form's CSRF token is the expected one.
pub fn csrf_ok(form: &FormValues, expected: &str) -> bool {
    auth::same_secret(form.value("csrf").as_bytes(), expected.as_bytes())
}

/// Renders a view with the page settings and server links, off the async executor.
pub async fn render<F>(state: &AppState, view: F) -> Result<String, AppError>
where
    F: FnOnce(&Site<'_>) -> Markup + Send + 'static,
{
    let config = state.config.clone();
    blocking(move || {
        let links = Links::server();
        view(&Site {
            page: &config.page,
            links: &links,
        })
        .into_string()
    })
    .await
}

/// An admin page, rendered off the executor and never cached.
pub async fn page<F>(
    state: &AppState,
    status: StatusCode,
    view: F,
) -> Result<HttpResponse, AppError>
where
    F: FnOnce(&Site<'_>) -> Markup + Send + 'static,
{
    let body = render(state, view).await?;
    Ok(HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// The page for a form posted without its token (or with a stale one).
async fn csrf_refused_page(state: &AppState) -> String {
    render(state, |site| {
        crate::views::error_page::message(
            site,
            "Form expired",
            "This form is missing its security token or it has expired. Go back, reload the page and try again.",
        )
    })
    .await
    .unwrap_or_default()
}

/// A form was posted without its token (or with a stale one).
pub async fn csrf_refused(state: &AppState) -> HttpResponse {
    FormRefused(csrf_refused_page(state).await).error_response()
}

pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("Location", to.to_string()))
        .finish()
}
