//! Everything the public pages show, read from the database in one go.

use chrono::{DateTime, Days, Utc};
use rusqlite::Connection;

use crate::db::feed::{self, FeedEntry};
use crate::db::incidents::{self, Filter, IncidentRecord};
use crate::db::monitors::{self, MonitorRow};
use crate::db::uptime;
use crate::domain::incident::{Status, component_status};
use crate::domain::status::{ComponentStatus, Impact, Indicator, page_indicator};
use crate::domain::uptime::{DayCount, date_key};
use crate::render::feeds::{FEED_DAYS, FEED_LIMIT};

/// One component (monitor) on the page.
#[derive(Debug, Clone)]
pub struct ComponentView {
    pub monitor: MonitorRow,
    pub status: ComponentStatus,
    /// Inside an active maintenance window.
    pub in_maintenance: bool,
    /// Daily counts inside the history window, oldest first.
    pub days: Vec<DayCount>,
}

/// The data behind one render of the public site.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub generated_at: DateTime<Utc>,
    pub history_days: u32,
    pub components: Vec<ComponentView>,
    /// Incidents not yet resolved, newest first.
    pub open_incidents: Vec<IncidentRecord>,
    /// The latest incidents, open or not, newest first.
    pub recent_incidents: Vec<IncidentRecord>,
    /// Maintenances scheduled or in progress, soonest first.
    pub planned_maintenances: Vec<IncidentRecord>,
    /// The latest maintenances, newest first.
    pub recent_maintenances: Vec<IncidentRecord>,
    /// The newest updates of incidents and maintenances, for the feeds.
    pub feed: Vec<FeedEntry>,
    /// Set while the checker itself is offline (its connectivity guard fails).
    pub checker_offline_since: Option<DateTime<Utc>>,
}

/// How many incidents and maintenances the API lists (Statuspage lists 50).
pub const RECENT: usize = 50;

impl Snapshot {
    /// Reads monitors and the daily buckets of the last `history_days` days (never raw checks).
    pub fn load(
        conn: &Connection,
        history_days: u32,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<Self> {
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
                Ok(ComponentView {
                    monitor,
                    status,
                    in_maintenance: maintenance,
                    days,
                })
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Self {
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
            checker_offline_since: None,
        })
    }

    /// Maintenances whose window is on now.
    pub fn active_maintenances(&self) -> impl Iterator<Item = &IncidentRecord> {
        self.planned_maintenances
            .iter()
            .filter(|m| matches!(m.status, Status::InProgress | Status::Verifying))
    }

    /// Maintenances yet to start.
    pub fn upcoming_maintenances(&self) -> impl Iterator<Item = &IncidentRecord> {
        self.planned_maintenances
            .iter()
            .filter(|m| m.status == Status::Scheduled)
    }

    pub fn indicator(&self) -> Indicator {
        let statuses: Vec<ComponentStatus> = self.components.iter().map(|c| c.status).collect();
        let impacts: Vec<Impact> = self.open_incidents.iter().map(|i| i.impact).collect();
        page_indicator(&statuses, &impacts)
    }

    /// When anything on the page last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.components
            .iter()
            .filter_map(|c| c.monitor.state.since)
            .chain(self.components.iter().map(|c| c.monitor.updated_at))
            .chain(self.recent_incidents.iter().map(|i| i.updated_at))
            .chain(self.recent_maintenances.iter().map(|i| i.updated_at))
            .max()
            .unwrap_or(self.generated_at)
    }

    /// Components in page order, grouped: `(group name, members)`; consecutive ungrouped ones
    /// share a block named `None`. A group appears where its first member does.
    pub fn groups(&self) -> Vec<(Option<&str>, Vec<&ComponentView>)> {
        let mut out: Vec<(Option<&str>, Vec<&ComponentView>)> = Vec::new();
        for c in &self.components {
            match c.monitor.group.as_deref() {
                Some(g) => match out.iter_mut().find(|(name, _)| *name == Some(g)) {
                    Some((_, members)) => members.push(c),
                    None => out.push((Some(g), vec![c])),
                },
                None => match out.last_mut() {
                    Some((None, members)) => members.push(c),
                    _ => out.push((None, vec![c])),
                },
            }
        }
        out
    }
}
