//! `/admin/incidents/new`, `/admin/incidents/{id}` (+ `/delete`, asked first): the owner's
//! incident forms.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Owner, OwnerForm, page, redirect, refill};
use crate::db::incidents;
use crate::domain::incident::Kind;
use crate::domain::status::ComponentStatus;
use crate::error::AppError;
use crate::incidents::input::ComponentIndex;
use crate::incidents::{IncidentError, Note, input, owner};
use crate::routes::admin_api::change;
use crate::routes::{blocking, not_found};
use crate::state::AppState;
use crate::views::admin::{FormState, FormValues, confirm, incident_form};

pub async fn new_form(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let form = FormState {
        csrf: owner.csrf,
        ..FormState::default()
    };
    let choices = state.choices();
    page(&state, StatusCode::OK, move |site| {
        incident_form::new_incident(site, &form, &choices)
    })
    .await
}

fn component_fields(
    known: &ComponentIndex,
    values: &FormValues,
) -> Result<Vec<(i64, ComponentStatus)>, IncidentError> {
    input::component_statuses(
        known,
        values
            .with_prefix("component.")
            .filter(|(_, v)| !v.is_empty()),
    )
}

/// The checked form, its note rendered: call it off the executor.
fn parse_new(known: &ComponentIndex, v: &FormValues) -> Result<owner::OpenIncident, IncidentError> {
    let components = component_fields(known, v)?;
    Ok(owner::OpenIncident {
        name: input::name(v.get("name"))?,
        status: input::status(v.value("status"), Kind::Incident)?,
        impact: match v.value("impact") {
            "" => input::default_impact(&components),
            i => input::impact(i)?,
        },
        note: Note::render(&input::body(v.get("body"))?),
        components,
        notify: input::notify(v.get("quiet")),
    })
}

fn parse_update(
    known: &ComponentIndex,
    v: &FormValues,
) -> Result<owner::PostUpdate, IncidentError> {
    Ok(owner::PostUpdate {
        status: input::status(v.value("status"), Kind::Incident)?,
        note: Note::render(&input::body(v.get("body"))?),
        components: component_fields(known, v)?,
        notify: input::notify(v.get("quiet")),
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
        _ => {
            let (known, values) = (state.components.clone(), form.values.clone());
            match blocking(move || parse_new(&known, &values)).await? {
                Ok(open) => {
                    let now = state.clock.now();
                    change(&state, move |tx| owner::open(tx, &open, now))
                        .await
                        .map_err(Some)
                }
                Err(e) => Err(Some(e.into())),
            }
        }
    };
    match result {
        Ok(id) => Ok(redirect(&format!("/admin/incidents/{id}"))),
        Err(e) => {
            let status = refill(&mut form, e).await;
            let choices = state.choices();
            page(&state, status, move |site| {
                incident_form::new_incident(site, &form, &choices)
            })
            .await
        }
    }
}

async fn show(
    state: &AppState,
    id: i64,
    form: FormState,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let record = state.db.read(move |c| Ok(incidents::get(c, id)?)).await?;
    let Some(record) = record else {
        return Ok(not_found::page(state));
    };
    if record.kind == Kind::Maintenance && form.values.0.is_empty() {
        return Ok(redirect(&format!("/admin/maintenances/{id}")));
    }
    let choices = state.choices();
    page(state, status, move |site| {
        incident_form::detail(site, &form, &record, &choices)
    })
    .await
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
    show(&state, id.into_inner(), form, StatusCode::OK).await
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
    let result = if form.values.value("action") == "preview" {
        Err(None)
    } else {
        let (known, values) = (state.components.clone(), form.values.clone());
        match blocking(move || parse_update(&known, &values)).await? {
            Err(e) => Err(Some(AppError::from(e))),
            Ok(update) => {
                let now = state.clock.now();
                change(&state, move |tx| owner::post_update(tx, id, &update, now))
                    .await
                    .map_err(Some)
            }
        }
    };
    match result {
        Ok(()) => Ok(redirect(&format!("/admin/incidents/{id}"))),
        Err(e) => {
            let status = refill(&mut form, e).await;
            show(&state, id, form, status).await
        }
    }
}

/// What deleting an incident takes with it, one line each.
fn what_goes(record: &incidents::IncidentRecord) -> Vec<String> {
    let what = match record.kind {
        Kind::Incident => "incident",
        Kind::Maintenance => "maintenance",
    };
    vec![
        format!(
            "The {what} \u{201c}{}\u{201d} and its {}.",
            record.name,
            confirm::count(record.updates.len(), "update", "updates")
        ),
        format!(
            "Its page /incidents/{} and its entries in the history, the feeds and the API.",
            record.id
        ),
        "Nobody is told: no channel and no subscriber hears of the delete.".to_string(),
    ]
}

/// `GET /admin/incidents/{id}/delete`: what will go, and the button that deletes it.
pub async fn delete_form(
    owner: Owner,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let Some(record) = state.db.read(move |c| Ok(incidents::get(c, id)?)).await? else {
        return Ok(not_found::page(&state));
    };
    page(&state, StatusCode::OK, move |site| {
        let (action, back) = (
            format!("/admin/incidents/{id}/delete"),
            format!("/admin/incidents/{id}"),
        );
        let goes = what_goes(&record);
        confirm::ask(
            site,
            &owner.csrf,
            &confirm::Ask {
                title: "Delete this incident?",
                goes: &goes,
                action: &action,
                button: "Delete it",
                back: &back,
            },
        )
    })
    .await
}

/// The confirming `POST`: deletes, then says what went.
pub async fn delete(
    checked: OwnerForm,
    id: web::Path<i64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let Some(record) = state.db.read(move |c| Ok(incidents::get(c, id)?)).await? else {
        return Ok(not_found::page(&state));
    };
    change(&state, move |tx| owner::delete(tx, id)).await?;
    let said = format!(
        "\u{201c}{}\u{201d} (#{id}) and its {} were deleted; its page now answers \u{201c}not found\u{201d}.",
        record.name,
        confirm::count(record.updates.len(), "update", "updates")
    );
    let csrf = checked.owner.csrf;
    page(&state, StatusCode::OK, move |site| {
        confirm::done(site, &csrf, "Incident deleted", &said)
    })
    .await
}
