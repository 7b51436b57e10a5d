//! Everything the public pages show, read from the database in one go.

use chrono::{DateTime, Days, Utc};
use rusqlite::Connection;

use crate::config::Config;
use crate::db::incidents::{self, Filter};
use crate::db::{feed, monitors, pings, uptime};
use crate::domain::incident::component_status;
use crate::domain::status::{Indicator, page_indicator};
use crate::domain::uptime::date_key;
use crate::render::feeds::{FEED_DAYS, FEED_LIMIT};
use crate::views::model::{ComponentView, JobTimes, Snapshot, Waiting};

/// How many incidents and maintenances the API lists (Statuspage lists 50).
pub const RECENT: usize = 50;

/// Reads monitors and the daily buckets of the last `history_days` days (never raw checks).
/// Call it inside one read transaction (`Db::read` is one), so a render never mixes two states.
pub fn load(conn: &Connection, config: &Config, now: DateTime<Utc>) -> rusqlite::Result<Snapshot> {
    let history_days = config.page.history_days;
    let runs = pings::last_runs(conn)?;
    let jobs: std::collections::HashMap<&str, _> = config
        .monitors
        .iter()
        .filter_map(|m| m.heartbeat().map(|hb| (m.id.as_str(), hb)))
        .collect();
    let today = now.date_naive();
    let first = today
        .checked_sub_days(Days::new(u64::from(history_days.saturating_sub(1))))
        .unwrap_or(today);
    let first_key = date_key(first);
    let open = incidents::open_component_statuses(conn)?;
    let in_maintenance = incidents::monitors_in_maintenance(conn, now)?;
    let mut window = uptime::daily_window(conn, first_key)?;
    let components = monitors::list_active(conn)?
        .into_iter()
        .map(|monitor| {
            let days = window.remove(&monitor.row_id).unwrap_or_default();
            let maintenance = in_maintenance.contains(&monitor.row_id);
            let incident_statuses = open.get(&monitor.row_id).map_or(&[][..], Vec::as_slice);
            let status = component_status(monitor.state.health, incident_statuses, maintenance);
            let waiting = Waiting::of(&monitor, status);
            let job = jobs.get(monitor.key.as_str()).map(|hb| {
                let last_success = runs.get(&monitor.row_id).and_then(|r| r.success);
                JobTimes {
                    last_success,
                    next_expected: hb.next_due(last_success, monitor.updated_at, now),
                }
            });
            Ok(ComponentView {
                job,
                monitor,
                status,
                waiting,
                in_maintenance: maintenance,
                days,
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Snapshot {
        generated_at: now,
        history_days,
        components,
        open_incidents: incidents::list(conn, Filter::OpenIncidents, now)?,
        recent_incidents: incidents::list(conn, Filter::RecentIncidents(RECENT), now)?,
        planned_maintenances: incidents::list(conn, Filter::PlannedMaintenances, now)?,
        recent_maintenances: incidents::list(conn, Filter::RecentMaintenances(RECENT), now)?,
        feed: feed::recent_updates(
            conn,
            now - chrono::Duration::days(FEED_DAYS),
            FEED_LIMIT,
            None,
        )?,
        calendar: crate::render::calendar::load(conn, now)?,
        checker_offline_since: None,
    })
}

/// The page indicator now, without the history (for a notification's page status).
pub fn indicator(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Indicator> {
    let open = incidents::open_component_statuses(conn)?;
    let in_maintenance = incidents::monitors_in_maintenance(conn, now)?;
    let statuses: Vec<_> = monitors::list_active(conn)?
        .iter()
        .map(|m| {
            let incident_statuses = open.get(&m.row_id).map_or(&[][..], Vec::as_slice);
            component_status(
                m.state.health,
                incident_statuses,
                in_maintenance.contains(&m.row_id),
            )
        })
        .collect();
    let impacts: Vec<_> = incidents::list(conn, Filter::OpenIncidents, now)?
        .iter()
        .map(|i| i.impact)
        .collect();
    Ok(page_indicator(&statuses, &impacts))
}
