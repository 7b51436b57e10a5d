//! `GET /admin/jobs`: the background jobs and their recent pings, with what they sent.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Owner, page};
use crate::db::{monitors, pings};
use crate::domain::status::Health;
use crate::error::AppError;
use crate::state::AppState;
use crate::views::admin::jobs::{JobRow, JobsView};

/// Pings listed per job.
const LISTED: i64 = 20;

pub async fn get(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let jobs: Vec<_> = state
        .roster
        .iter()
        .filter_map(|m| m.spec.heartbeat().map(|hb| (m.clone(), hb.clone())))
        .collect();
    let now = state.clock.now();
    let rows = jobs.iter().map(|(m, _)| m.row).collect::<Vec<_>>();
    let stored = state
        .db
        .read(move |c| {
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let state = pings::job_state(c, row)?;
                let reason = monitors::summary(c, row)?
                    .filter(|s| s.state.health != Health::Up)
                    .and_then(|s| s.last_reason);
                out.push((state, reason, pings::recent(c, row, LISTED)?));
            }
            Ok(out)
        })
        .await?;
    let jobs = jobs
        .into_iter()
        .zip(stored)
        .map(|((m, hb), (job, reason, pings))| JobRow {
            id: m.spec.id.to_string(),
            name: m.spec.name.clone(),
            expects: hb.target(),
            max_runtime: hb.max_runtime,
            last_success: job.last_success,
            next_expected: hb.next_due(job.last_success, job.expect_since.unwrap_or(now), now),
            reason,
            pings,
        })
        .collect();
    let view = JobsView {
        csrf: owner.csrf,
        jobs,
        now,
    };
    page(&state, StatusCode::OK, move |site| {
        crate::views::admin::jobs::render(site, &view)
    })
    .await
}
