//! `/admin/incidents/new`, `/admin/incidents/{id}` (+ `/delete`): the owner's incident forms.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;

use super::{Owner, OwnerForm, choices, html, redirect, with_site};
use crate::db::incidents;
use crate::domain::incident::Kind;
use crate::error::AppError;
use crate::incidents::{IncidentError, input, owner};
use crate::routes::admin_api::change;
use crate::routes::not_found;
use crate::state::AppState;
use crate::views::admin::{FormState, FormValues, incident_form};

pub async fn new_form(owner: Owner, state: web::Data<AppState>) -> HttpResponse {
    let form = FormState {
        csrf: owner.csrf,
        ..FormState::default()
    };
    html(
        StatusCode::OK,
        with_site(&state, |site| {
            incident_form::new_incident(site, &form, &choices(&state))
        }),
    )
}

fn component_fields(
    state: &AppState,
    values: &FormValues,
) -> Result<Vec<(i64, crate::domain::status::ComponentStatus)>, IncidentError> {
    input::component_statuses(
        state,
        values
            .with_prefix("component.")
            .filter(|(_, v)| !v.is_empty()),
    )
}

fn parse_new(state: &AppState, v: &FormValues) -> Result<owner::OpenIncident, IncidentError> {
    let components = component_fields(state, v)?;
    Ok(owner::OpenIncident {
        name: input::name(v.get("name"))?,
        status: input::status(v.value("status"), Kind::Incident)?,
        impact: match v.value("impact") {
            "" => input::default_impact(&components),
            i => input::impact(i)?,
        },
        body: input::body(v.get("body"))?,
        components,
    })
}

pub async fn create(form: OwnerForm, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let OwnerForm { owner, values } = form;
    let mut form = FormState {
        csrf: owner.csrf,
        values,
        ..FormState::default()
    };
    let result = match form.values.value("action") {
        "preview" => Err(None),
        _ => match parse_new(&state, &form.values) {
            Ok(open) => change(&state, move |tx| owner::open(tx, &open, Utc::now()))
                .await
                .map_err(Some),
            Err(e) => Err(Some(e.into())),
        },
    };
    match result {
        Ok(id) => Ok(redirect(&format!("/admin/incidents/{id}"))),
        Err(e) => {
            let status = form.refill(e);
            Ok(html(
                status,
                with_site(&state, |site| {
                    incident_form::new_incident(site, &form, &choices(&state))
                }),
            ))
        }
    }
}

async fn show(
    state: &AppState,
    id: i64,
    form: &FormState,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let record = state.db.read(move |c| Ok(incidents::get(c, id)?)).await?;
    let Some(record) = record else {
        return Ok(not_found::page(state));
    };
    if record.kind == Kind::Maintenance && form.values.0.is_empty() {
        return Ok(redirect(&format!("/admin/maintenances/{id}")));
    }
    Ok(html(
        status,
        with_site(state, |site| {
            incident_form::detail(site, form, &record, &choices(state))
        }),
    ))
}

pub async fn detail(
    owner: Owner,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let form = FormState {
        csrf: owner.csrf,
        ..FormState::default()
    };
    show(&state, id.into_inner(), &form, StatusCode::OK).await
}

pub async fn update(
    form: OwnerForm,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let OwnerForm { owner, values } = form;
    let mut form = FormState {
        csrf: owner.csrf,
        values,
        ..FormState::default()
    };
    let parsed = (|| {
        Ok::<_, IncidentError>(owner::PostUpdate {
            status: input::status(form.values.value("status"), Kind::Incident)?,
            body: input::body(form.values.get("body"))?,
            components: component_fields(&state, &form.values)?,
        })
    })();
    let result = match (form.values.value("action"), parsed) {
        ("preview", _) => Err(None),
        (_, Err(e)) => Err(Some(AppError::from(e))),
        (_, Ok(update)) => change(&state, move |tx| {
            owner::post_update(tx, id, &update, Utc::now())
        })
        .await
        .map_err(Some),
    };
    match result {
        Ok(()) => Ok(redirect(&format!("/admin/incidents/{id}"))),
        Err(e) => {
            let status = form.refill(e);
            show(&state, id, &form, status).await
        }
    }
}

pub async fn delete(
    _checked: OwnerForm,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    change(&state, move |tx| owner::delete(tx, id)).await?;
    Ok(redirect("/admin"))
}
