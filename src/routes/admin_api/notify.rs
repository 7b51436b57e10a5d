//! The owner API of notifications (SPEC §7): subscribers, deliveries with their attempts, and
//! a test message per channel.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::Admin;
use crate::db::{outbox, subscribers};
use crate::error::AppError;
use crate::notify::{message, stage};
use crate::render::statuspage::timestamp;
use crate::state::AppState;

/// Deliveries one call lists at most.
const LISTED: usize = 200;

#[derive(Serialize)]
struct SubscriberJson {
    id: String,
    email: String,
    confirmed: bool,
    confirmed_at: Option<String>,
    created_at: String,
    /// Monitor ids followed; empty: every component.
    components: Vec<String>,
}

pub async fn list_subscribers(
    _: Admin,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let list = state.db.read(|c| Ok(subscribers::list(c)?)).await?;
    let subscribers: Vec<SubscriberJson> = list
        .into_iter()
        .map(|s| SubscriberJson {
            id: s.id.to_string(),
            email: s.email,
            confirmed: s.confirmed_at.is_some(),
            confirmed_at: s.confirmed_at.map(timestamp),
            created_at: timestamp(s.created_at),
            components: s.components,
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "subscribers": subscribers })))
}

pub async fn delete_subscriber(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let missing = || AppError::NotFound(format!("no subscriber with id {id}"));
    let row: i64 = id.parse().map_err(|_| missing())?;
    let deleted = state
        .writer
        .run(move |tx| Ok(subscribers::delete(tx, row)?))
        .await?;
    if !deleted {
        return Err(missing());
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct DeliveriesQuery {
    state: Option<String>,
}

#[derive(Serialize)]
struct AttemptJson {
    at: String,
    status: Option<String>,
    error: Option<String>,
    duration_ms: i64,
}

#[derive(Serialize)]
struct DeliveryJson {
    id: String,
    channel: Option<String>,
    subscriber: Option<String>,
    event: String,
    title: String,
    state: &'static str,
    attempts: u32,
    last_error: Option<String>,
    created_at: String,
    next_attempt_at: Option<String>,
    done_at: Option<String>,
    attempt_log: Vec<AttemptJson>,
}

pub async fn list_deliveries(
    _: Admin,
    query: web::Query<DeliveriesQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let wanted = match query.state.as_deref() {
        None => None,
        Some(word) => Some(outbox::State::parse(word).ok_or_else(|| {
            AppError::BadRequest(format!(
                "state: \"{word}\" is not a delivery state; use pending, delivered or failed"
            ))
        })?),
    };
    let rows = state
        .db
        .read(move |c| {
            outbox::list(c, wanted, LISTED)?
                .into_iter()
                .map(|d| {
                    let log = outbox::attempts(c, &d.id)?;
                    Ok((d, log))
                })
                .collect::<anyhow::Result<Vec<_>>>()
        })
        .await?;
    let deliveries: Vec<DeliveryJson> = rows
        .into_iter()
        .map(|(d, log)| DeliveryJson {
            next_attempt_at: (d.state == outbox::State::Pending)
                .then(|| timestamp(d.next_attempt_at)),
            id: d.id,
            channel: d.channel,
            subscriber: d.subscriber,
            event: d.event,
            title: d.title,
            state: d.state.as_str(),
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: timestamp(d.created_at),
            done_at: d.done_at.map(timestamp),
            attempt_log: log
                .into_iter()
                .map(|a| AttemptJson {
                    at: timestamp(a.at),
                    status: a.status,
                    error: a.error,
                    duration_ms: a.duration_ms,
                })
                .collect(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveries": deliveries })))
}

pub async fn test_channel(
    _: Admin,
    channel: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let delivery = send_test(&state, &channel).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "delivery": delivery })))
}

pub async fn retry(
    _: Admin,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    retry_delivery(&state, id.into_inner()).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({ "retrying": true })))
}

/// Writes a test message for one channel; the id is checked against the config.
pub async fn send_test(state: &AppState, channel: &str) -> Result<String, AppError> {
    if !state.config.notify.channels.iter().any(|c| c.id == channel) {
        return Err(AppError::NotFound(format!("no channel with id {channel}")));
    }
    let (config, now, channel) = (state.config.clone(), state.clock.now(), channel.to_string());
    let id = state
        .writer
        .run(move |tx| {
            let test = message::test(&config, &channel, now);
            Ok(stage::to_channel(tx, &test, &channel, now)?)
        })
        .await?;
    state.notifier.wake();
    Ok(id)
}

/// Makes a failed delivery pending again, due now.
pub async fn retry_delivery(state: &AppState, id: String) -> Result<(), AppError> {
    let now = state.clock.now();
    let shown = id.clone();
    let found = state
        .writer
        .run(move |tx| Ok(outbox::retry(tx, &id, now)?))
        .await?;
    if !found {
        return Err(AppError::NotFound(format!(
            "no failed delivery with id {shown}"
        )));
    }
    state.notifier.wake();
    Ok(())
}
