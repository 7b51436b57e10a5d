//! `GET /admin`

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::{Owner, page};
use crate::db::incidents::{self, Filter};
use crate::error::AppError;
use crate::state::AppState;
use crate::views::admin::dashboard::{self, DashboardView};

/// Incidents listed under "Recent incidents".
const RECENT: usize = 20;

pub async fn get(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let now = state.clock.now();
    let (open, planned, recent) = state
        .db
        .read(move |c| {
            Ok((
                incidents::list(c, Filter::OpenIncidents, now)?,
                incidents::list(c, Filter::PlannedMaintenances, now)?,
                incidents::list(c, Filter::RecentIncidents(RECENT), now)?,
            ))
        })
        .await?;
    let view = DashboardView {
        csrf: owner.csrf,
        open,
        planned,
        recent,
    };
    page(&state, StatusCode::OK, move |site| {
        dashboard::render(site, &view)
    })
    .await
}
