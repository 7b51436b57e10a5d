//! `POST /api/admin/maintenances`, `PATCH` and `DELETE /api/admin/maintenances/{id}`

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{Admin, change, incident_json, parse_id_of, read_request};
use crate::error::AppError;
use crate::incidents::input::ComponentIndex;
use crate::incidents::{IncidentError, Note, input, maintenance};

use crate::state::AppState;

/// A maintenance as sent: every field for `POST` (missing ones are refused by name), any of
/// them for `PATCH` (missing ones stay as they are).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceBody {
    name: Option<String>,
    body: Option<String>,
    scheduled_for: Option<String>,
    scheduled_until: Option<String>,
    components: Option<Vec<String>>,
    /// Statuspage's field: `false` tells nobody.
    deliver_notifications: Option<bool>,
}

fn components(known: &ComponentIndex, keys: &[String]) -> Result<Vec<i64>, IncidentError> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| input::component(known, &format!("components[{i}]"), key))
        .collect()
}

fn parse(state: &AppState, body: MaintenanceBody) -> Result<maintenance::Schedule, IncidentError> {
    Ok(maintenance::Schedule {
        name: input::name(body.name.as_deref())?,
        note: Note::render(&input::body(body.body.as_deref())?),
        scheduled_for: input::time("scheduled_for", body.scheduled_for.as_deref())?,
        scheduled_until: input::time("scheduled_until", body.scheduled_until.as_deref())?,
        components: components(&state.components, body.components.as_deref().unwrap_or(&[]))?,
        notify: body.deliver_notifications.unwrap_or(true),
    })
}

fn parse_patch(
    state: &AppState,
    body: MaintenanceBody,
) -> Result<maintenance::Patch, IncidentError> {
    if body.name.is_none()
        && body.body.is_none()
        && body.scheduled_for.is_none()
        && body.scheduled_until.is_none()
        && body.components.is_none()
    {
        return Err(IncidentError::BadRequest(
            "nothing to change: send any of name, body, scheduled_for, scheduled_until, components"
                .into(),
        ));
    }
    let time =
        |field: &str, value: Option<&str>| value.map(|v| input::time(field, Some(v))).transpose();
    Ok(maintenance::Patch {
        name: body
            .name
            .as_deref()
            .map(|n| input::name(Some(n)))
            .transpose()?,
        note: Note::render(&input::body(body.body.as_deref())?),
        scheduled_for: time("scheduled_for", body.scheduled_for.as_deref())?,
        scheduled_until: time("scheduled_until", body.scheduled_until.as_deref())?,
        components: body
            .components
            .map(|keys| components(&state.components, &keys))
            .transpose()?,
        notify: body.deliver_notifications.unwrap_or(true),
    })
}

fn parse_id(text: &str) -> Result<i64, AppError> {
    parse_id_of("maintenance", text)
}

pub async fn create(
    _: Admin,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let schedule = read_request(&req, payload, &state, parse).await?;
    let now = state.clock.now();
    let id = change(&state, move |tx| maintenance::schedule(tx, &schedule, now)).await?;
    Ok(HttpResponse::Created().json(incident_json(&state, id).await?))
}

/// Edits or reschedules a maintenance by the rules of the `/admin` form.
pub async fn patch(
    _: Admin,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    let patch = read_request(&req, payload, &state, parse_patch).await?;
    let now = state.clock.now();
    change(&state, move |tx| maintenance::patch(tx, id, &patch, now)).await?;
    Ok(HttpResponse::Ok().json(incident_json(&state, id).await?))
}

/// Cancels a maintenance as the `/admin` button does: it stays in the history.
pub async fn delete(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = parse_id(&id)?;
    let now = state.clock.now();
    change(&state, move |tx| maintenance::cancel(tx, id, true, now)).await?;
    Ok(HttpResponse::Ok().json(incident_json(&state, id).await?))
}
