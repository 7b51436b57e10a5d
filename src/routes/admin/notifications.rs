//! `/admin/notifications` (+ `/{id}/test`, `/deliveries/{id}/retry`): what was sent, what
//! waits, what failed; test a channel, retry a failed delivery.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Owner, OwnerForm, page, redirect};
use crate::db::{outbox, subscribers};
use crate::error::AppError;
use crate::routes::admin_api::notify::{retry_delivery, send_test};
use crate::state::AppState;
use crate::views::admin::notifications::{ChannelRow, NotificationsView};

/// Deliveries listed per state.
const LISTED: usize = 20;

pub async fn get(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (pending, failed, delivered, last, counts, attempts) = state
        .db
        .read(|c| {
            let pending = outbox::list(c, Some(outbox::State::Pending), LISTED)?;
            let failed = outbox::list(c, Some(outbox::State::Failed), LISTED)?;
            let delivered = outbox::list(c, Some(outbox::State::Delivered), LISTED)?;
            let mut attempts = HashMap::new();
            for d in pending.iter().chain(&failed).chain(&delivered) {
                attempts.insert(d.id.clone(), outbox::attempts(c, &d.id)?);
            }
            Ok((
                pending,
                failed,
                delivered,
                outbox::last_per_channel(c)?,
                subscribers::counts(c)?,
                attempts,
            ))
        })
        .await?;
    let mut last = last;
    let channels = state
        .config
        .notify
        .channels
        .iter()
        .map(|c| ChannelRow {
            id: c.id.clone(),
            kind: c.kind.name(),
            destination: c.kind.destination(),
            events: c.events.iter().map(|e| e.as_str()).collect(),
            last: last.remove(&c.id),
        })
        .collect();
    let view = NotificationsView {
        csrf: owner.csrf,
        channels,
        pending,
        failed,
        delivered,
        attempts,
        subscriptions: state.config.notify.subscribers,
        subscribers: counts,
    };
    page(&state, StatusCode::OK, move |site| {
        crate::views::admin::notifications::render(site, &view)
    })
    .await
}

pub async fn test(
    _checked: OwnerForm,
    channel: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    send_test(&state, &channel).await?;
    Ok(redirect("/admin/notifications"))
}

pub async fn retry(
    _checked: OwnerForm,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    retry_delivery(&state, id.into_inner()).await?;
    Ok(redirect("/admin/notifications"))
}
