//! `/admin/maintenances/new`, `/admin/maintenances/{id}` (+ `/cancel`, asked first): schedule,
//! edit, cancel.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Owner, OwnerForm, redirect, refill};
use crate::db::incidents;
use crate::domain::incident::Kind;
use crate::error::AppError;
use crate::incidents::input::ComponentIndex;
use crate::incidents::{IncidentError, Note, input, maintenance};
use crate::routes::admin_api::change;
use crate::routes::{blocking, not_found};
use crate::state::AppState;
use crate::views::admin::{FormState, FormValues, confirm, maintenance_form};

/// `<input type="datetime-local">` sends this, in the page's time zone.
const LOCAL_FORMAT: &str = "%Y-%m-%dT%H:%M";

fn local_time(tz: Tz, field: &str, value: &str) -> Result<DateTime<Utc>, IncidentError> {
    let naive = NaiveDateTime::parse_from_str(value.trim(), LOCAL_FORMAT).map_err(|_| {
        IncidentError::BadRequest(format!(
            "{field}: \"{value}\" is not a date and time like 2026-12-01T22:00"
        ))
    })?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            IncidentError::BadRequest(format!(
                "{field}: {value} does not exist in {tz} (a clock change)"
            ))
        })
}

/// The checked form, its note rendered: call it off the executor.
fn parse(
    known: &ComponentIndex,
    tz: Tz,
    v: &FormValues,
) -> Result<maintenance::Schedule, IncidentError> {
    let components = v
        .with_prefix("component.")
        .map(|(key, _)| input::component(known, &format!("component.{key}"), key))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(maintenance::Schedule {
        name: input::name(v.get("name"))?,
        note: Note::render(&input::body(v.get("body"))?),
        scheduled_for: local_time(tz, "scheduled_for", v.value("scheduled_for"))?,
        scheduled_until: local_time(tz, "scheduled_until", v.value("scheduled_until"))?,
        components,
        notify: input::notify(v.get("quiet")),
    })
}

async fn page(
    state: &AppState,
    status: StatusCode,
    form: FormState,
    id: Option<i64>,
) -> Result<HttpResponse, AppError> {
    let choices = state.choices();
    super::page(state, status, move |site| {
        maintenance_form::render(site, &form, &choices, id)
    })
    .await
}

pub async fn new_form(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let form = FormState {
        csrf: owner.csrf,
        ..FormState::default()
    };
    page(&state, StatusCode::OK, form, None).await
}

pub async fn edit_form(
    owner: Owner,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let record = state.db.read(move |c| Ok(incidents::get(c, id)?)).await?;
    let Some(m) = record.filter(|m| m.kind == Kind::Maintenance) else {
        return Ok(not_found::page(&state));
    };
    let tz = state.config.page.timezone;
    let local = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.with_timezone(&tz).format(LOCAL_FORMAT).to_string())
            .unwrap_or_default()
    };
    let mut values = vec![
        ("name".to_string(), m.name.clone()),
        ("scheduled_for".to_string(), local(m.scheduled_for)),
        ("scheduled_until".to_string(), local(m.scheduled_until)),
    ];
    values.extend(
        m.components
            .iter()
            .map(|c| (format!("component.{}", c.key), "on".to_string())),
    );
    let form = FormState {
        csrf: owner.csrf,
        values: FormValues(values),
        ..FormState::default()
    };
    page(&state, StatusCode::OK, form, Some(id)).await
}

async fn submit(
    form: OwnerForm,
    id: Option<i64>,
    state: &AppState,
) -> Result<HttpResponse, AppError> {
    let OwnerForm { owner, values } = form;
    let mut form = FormState {
        csrf: owner.csrf,
        values,
        ..FormState::default()
    };
    let result = if form.values.value("action") == "preview" {
        Err(None)
    } else {
        let (known, tz, values) = (
            state.components.clone(),
            state.config.page.timezone,
            form.values.clone(),
        );
        let now = state.clock.now();
        match blocking(move || parse(&known, tz, &values)).await? {
            Err(e) => Err(Some(AppError::from(e))),
            Ok(s) => match id {
                None => change(state, move |tx| maintenance::schedule(tx, &s, now))
                    .await
                    .map_err(Some),
                Some(id) => change(state, move |tx| {
                    maintenance::edit(tx, id, &s, now).map(|()| id)
                })
                .await
                .map_err(Some),
            },
        }
    };
    match result {
        Ok(_) => Ok(redirect("/admin")),
        Err(e) => {
            let status = refill(&mut form, e).await;
            page(state, status, form, id).await
        }
    }
}

pub async fn create(form: OwnerForm, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    submit(form, None, &state).await
}

pub async fn save(
    form: OwnerForm,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    submit(form, Some(id.into_inner()), &state).await
}

/// `GET /admin/maintenances/{id}/cancel`: what cancelling does, and the button.
pub async fn cancel_form(
    owner: Owner,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let record = state.db.read(move |c| Ok(incidents::get(c, id)?)).await?;
    let Some(m) = record.filter(|m| m.kind == Kind::Maintenance) else {
        return Ok(not_found::page(&state));
    };
    let goes = vec![
        format!(
            "The maintenance \u{201c}{}\u{201d} ends now, marked cancelled (it stays in the history).",
            m.name
        ),
        "Its components go back to what their monitors say.".to_string(),
        "The channels and subscribers told of it hear that it is cancelled.".to_string(),
    ];
    super::page(&state, StatusCode::OK, move |site| {
        let (action, back) = (
            format!("/admin/maintenances/{id}/cancel"),
            format!("/admin/maintenances/{id}"),
        );
        confirm::ask(
            site,
            &owner.csrf,
            &confirm::Ask {
                title: "Cancel this maintenance?",
                goes: &goes,
                action: &action,
                button: "Cancel it",
                back: &back,
            },
        )
    })
    .await
}

/// The confirming `POST`: cancels, then says so.
pub async fn cancel(
    checked: OwnerForm,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let record = state.db.read(move |c| Ok(incidents::get(c, id)?)).await?;
    let Some(m) = record.filter(|m| m.kind == Kind::Maintenance) else {
        return Ok(not_found::page(&state));
    };
    let now = state.clock.now();
    change(&state, move |tx| maintenance::cancel(tx, id, true, now)).await?;
    let said = format!(
        "The maintenance \u{201c}{}\u{201d} (#{id}) was cancelled; those told of it hear that it is cancelled.",
        m.name
    );
    let csrf = checked.owner.csrf;
    super::page(&state, StatusCode::OK, move |site| {
        confirm::done(site, &csrf, "Maintenance cancelled", &said)
    })
    .await
}
