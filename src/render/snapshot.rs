//! Everything the public pages show, read from the database in one go.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;

use crate::config::Config;
use crate::db::incidents::{self, Filter};
use crate::db::{feed, monitors, pings, uptime};
use crate::domain::incident::component_status;
use crate::domain::uptime::{DayCount, date_key};
use crate::render::feeds::{FEED_DAYS, FEED_LIMIT};
use crate::views::model::{ComponentView, JobTimes, Snapshot, Waiting};

/// How many incidents and maintenances the API lists (Statuspage lists 50).
pub const RECENT: usize = 50;

/// The daily buckets of the page's window, kept between renders. A check is counted on the day
/// (of the page's zone) it started and no check runs for a day, so the days before yesterday
/// never change: they are read once (and again when the window moves on a new day, or the zone
/// changes), and each render reads only
/// yesterday's and today's buckets — a few per monitor, however long the window. Only a
/// restart sees buckets written to the database behind the server's back.
#[derive(Default)]
pub struct DayHistory {
    settled: Mutex<Option<Settled>>,
}

/// Buckets of the days `first..=last` of `zone`, by monitor row, oldest first.
struct Settled {
    first: i64,
    last: i64,
    zone: Tz,
    days: HashMap<i64, Vec<DayCount>>,
}

impl DayHistory {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every monitor's buckets from `first` through `today` (days of the zone the buckets are
    /// keyed in), by monitor row, oldest first. A change of zone re-keys the buckets: the
    /// settled days are read again.
    fn window(
        &self,
        conn: &Connection,
        first: i64,
        today: i64,
    ) -> rusqlite::Result<HashMap<i64, Vec<DayCount>>> {
        let last = today - 2;
        let zone = uptime::day_zone(conn)?;
        let mut settled = self.settled.lock().unwrap_or_else(|p| p.into_inner());
        let current = settled
            .as_ref()
            .is_some_and(|s| s.first == first && s.last == last && s.zone == zone);
        if !current {
            *settled = Some(Settled {
                first,
                last,
                zone,
                days: uptime::daily_window(conn, first, last)?,
            });
        }
        let recent = uptime::daily_window(conn, (last + 1).max(first), today)?;
        let mut window = settled.as_ref().map(|s| s.days.clone()).unwrap_or_default();
        for (row, days) in recent {
            window.entry(row).or_default().extend(days);
        }
        Ok(window)
    }
}

/// Reads monitors and the daily buckets of the last `history_days` days (never raw checks),
/// the settled ones from `history`. Call it inside one read transaction (`Db::read` is one),
/// so a render never mixes two states.
pub fn load(
    conn: &Connection,
    config: &Config,
    now: DateTime<Utc>,
    history: &DayHistory,
) -> rusqlite::Result<Snapshot> {
    let history_days = config.page.history_days;
    let runs = pings::last_runs(conn)?;
    let jobs: std::collections::HashMap<&str, _> = config
        .monitors
        .iter()
        .filter_map(|m| m.heartbeat().map(|hb| (m.id.as_str(), hb)))
        .collect();
    // The page's days: a day of `[page] timezone` (the zone the daily buckets are keyed in).
    let today = now.with_timezone(&config.page.timezone).date_naive();
    let first = today
        .checked_sub_days(Days::new(u64::from(history_days.saturating_sub(1))))
        .unwrap_or(today);
    let first_key = date_key(first);
    let open = incidents::open_component_statuses(conn)?;
    let in_maintenance = incidents::monitors_in_maintenance(conn, now)?;
    let mut window = history.window(conn, first_key, date_key(today))?;
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
        today,
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
