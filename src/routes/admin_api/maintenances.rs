//! `POST /api/admin/maintenances`

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;

use super::{Admin, change, incident_json};
use crate::error::AppError;
use crate::incidents::{input, maintenance};
use crate::routes::json_body;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    name: Option<String>,
    body: Option<String>,
    scheduled_for: Option<String>,
    scheduled_until: Option<String>,
    components: Option<Vec<String>>,
}

pub async fn create(
    _: Admin,
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body: CreateBody = json_body::read(&req, payload).await?;
    let components = body
        .components
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, key)| input::component(&state, &format!("components[{i}]"), key))
        .collect::<Result<Vec<_>, _>>()?;
    let schedule = maintenance::Schedule {
        name: input::name(body.name.as_deref())?,
        body: input::body(body.body.as_deref())?,
        scheduled_for: input::time("scheduled_for", body.scheduled_for.as_deref())?,
        scheduled_until: input::time("scheduled_until", body.scheduled_until.as_deref())?,
        components,
    };
    let id = change(&state, move |tx| {
        maintenance::schedule(tx, &schedule, Utc::now())
    })
    .await?;
    Ok(HttpResponse::Created().json(incident_json(&state, id).await?))
}
