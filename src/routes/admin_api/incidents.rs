//! `POST/PATCH/DELETE /api/admin/incidents…`

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{Admin, change, incident_json, parse_id, read_request};
use crate::domain::incident::{Kind, Status};
use crate::domain::status::ComponentStatus;
use crate::error::AppError;
use crate::incidents::{IncidentError, Note, input, owner};
use crate::routes::json_body;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
    status: Option<String>,
    impact: Option<String>,
    body: Option<String>,
    components: Option<BTreeMap<String, String>>,
    /// Statuspage's field: `false` tells nobody.
    deliver_notifications: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    status: Option<String>,
    body: Option<String>,
    components: Option<BTreeMap<String, String>>,
    deliver_notifications: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    name: Option<String>,
    impact: Option<String>,
}

fn components(
    state: &AppState,
    map: &Option<BTreeMap<String, String>>,
) -> Result<Vec<(i64, ComponentStatus)>, IncidentError> {
    let pairs = map.iter().flatten().map(|(k, v)| (k.as_str(), v.as_str()));
    input::component_statuses(&state.components, pairs)
}

/// The checked request, its note rendered (off the executor: long notes take a while).
fn parse_create(state: &AppState, body: CreateBody) -> Result<owner::OpenIncident, IncidentError> {
    let components = components(state, &body.components)?;
    Ok(owner::OpenIncident {
        name: input::name(body.name.as_deref())?,
        status: match body.status.as_deref() {
            Some(s) => input::status(s, Kind::Incident)?,
            None => Status::Investigating,
        },
        impact: match body.impact.as_deref() {
            Some(i) => input::impact(i)?,
            None => input::default_impact(&components),
        },
        note: Note::render(&input::body(body.body.as_deref())?),
        components,
        notify: body.deliver_notifications.unwrap_or(true),
    })
}

pub async fn create(
    _: Admin,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let open = read_request(&req, payload, &state, parse_create).await?;
    let now = state.clock.now();
    let id = change(&state, move |tx| owner::open(tx, &open, now)).await?;
    Ok(HttpResponse::Created().json(incident_json(&state, id).await?))
}

fn parse_update(state: &AppState, body: UpdateBody) -> Result<owner::PostUpdate, IncidentError> {
    let status = body
        .status
        .as_deref()
        .ok_or_else(|| IncidentError::BadRequest("status: is required".into()))?;
    Ok(owner::PostUpdate {
        status: input::status(status, Kind::Incident)?,
        note: Note::render(&input::body(body.body.as_deref())?),
        components: components(state, &body.components)?,
        notify: body.deliver_notifications.unwrap_or(true),
    })
}

pub async fn post_update(
    _: Admin,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    let update = read_request(&req, payload, &state, parse_update).await?;
    let now = state.clock.now();
    change(&state, move |tx| owner::post_update(tx, id, &update, now)).await?;
    Ok(HttpResponse::Created().json(incident_json(&state, id).await?))
}

pub async fn patch(
    _: Admin,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    let body: PatchBody = json_body::read(&req, payload).await?;
    let name = body
        .name
        .as_deref()
        .map(|n| input::name(Some(n)))
        .transpose()?;
    let impact = body.impact.as_deref().map(input::impact).transpose()?;
    let now = state.clock.now();
    change(&state, move |tx| {
        owner::patch(tx, id, name.as_deref(), impact, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(incident_json(&state, id).await?))
}

pub async fn delete(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    change(&state, move |tx| owner::delete(tx, id)).await?;
    Ok(HttpResponse::NoContent().finish())
}
