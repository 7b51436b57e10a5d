//! `POST /api/admin/maintenances`

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{Admin, change, incident_json, read_request};
use crate::error::AppError;
use crate::incidents::{IncidentError, Note, input, maintenance};

use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
    body: Option<String>,
    scheduled_for: Option<String>,
    scheduled_until: Option<String>,
    components: Option<Vec<String>>,
    /// Statuspage's field: `false` tells nobody.
    deliver_notifications: Option<bool>,
}

fn parse(state: &AppState, body: CreateBody) -> Result<maintenance::Schedule, IncidentError> {
    let components = body
        .components
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, key)| input::component(&state.components, &format!("components[{i}]"), key))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(maintenance::Schedule {
        name: input::name(body.name.as_deref())?,
        note: Note::render(&input::body(body.body.as_deref())?),
        scheduled_for: input::time("scheduled_for", body.scheduled_for.as_deref())?,
        scheduled_until: input::time("scheduled_until", body.scheduled_until.as_deref())?,
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
    let schedule = read_request(&req, payload, &state, parse).await?;
    let now = state.clock.now();
    let id = change(&state, move |tx| maintenance::schedule(tx, &schedule, now)).await?;
    Ok(HttpResponse::Created().json(incident_json(&state, id).await?))
}
