//! The view-model of the public site: everything one render shows, read in one go by
//! `render::snapshot` and passed to the views.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::feed::FeedEntry;
use crate::db::incidents::IncidentRecord;
use crate::db::monitors::MonitorRow;
use crate::domain::incident::Status;
use crate::domain::status::{ComponentStatus, Impact, Indicator, page_indicator};
use crate::domain::uptime::DayCount;

/// One component (monitor) on the page.
#[derive(Debug, Clone)]
pub struct ComponentView {
    pub monitor: MonitorRow,
    pub status: ComponentStatus,
    /// Set while nothing is known yet: the page must not call it operational.
    pub waiting: Option<Waiting>,
    /// Inside an active maintenance window.
    pub in_maintenance: bool,
    /// Daily counts inside the history window, oldest first.
    pub days: Vec<DayCount>,
    /// A background job's runs; `None` for a probed monitor.
    pub job: Option<JobTimes>,
}

impl ComponentView {
    /// The status to show where there is no room for "waiting" (badges, `/metrics`): `None`
    /// before the first check, which is "no data", never "operational" (SPEC §11).
    pub fn known_status(&self) -> Option<ComponentStatus> {
        self.waiting.is_none().then_some(self.status)
    }
}

/// When a background job last ran well and when it is next expected, for the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTimes {
    pub last_success: Option<DateTime<Utc>>,
    /// The run owed while it may still report (overdue once that time has gone by), else the
    /// next one.
    pub next_expected: Option<DateTime<Utc>>,
}

/// A component that has not been checked yet: its status is only the Statuspage default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waiting {
    /// A probed monitor before its first check.
    FirstCheck,
    /// A heartbeat before the first ping (or the end of its first grace period).
    FirstPing,
}

impl Waiting {
    /// Waiting when no check was recorded and nothing (an incident, a window) says otherwise.
    pub fn of(monitor: &MonitorRow, status: ComponentStatus) -> Option<Self> {
        if monitor.last.is_some() || status != ComponentStatus::Operational {
            return None;
        }
        Some(if monitor.kind == "heartbeat" {
            Self::FirstPing
        } else {
            Self::FirstCheck
        })
    }

    /// The pill's words.
    pub fn label(self) -> &'static str {
        match self {
            Self::FirstCheck => "Checking…",
            Self::FirstPing => "Waiting",
        }
    }

    /// What it means, in a sentence (the page and the API's `description`).
    pub fn sentence(self) -> &'static str {
        match self {
            Self::FirstCheck => "Waiting for the first check",
            Self::FirstPing => "Waiting for the first ping",
        }
    }
}

/// The banner of a fresh server, before any component was checked.
pub const ALL_WAITING: &str = "Waiting for the first checks";

/// The data behind one render of the public site.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub generated_at: DateTime<Utc>,
    /// The date in the page's time zone: the last day of the uptime bars.
    pub today: NaiveDate,
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
    /// Upcoming, active and recent maintenances, latest first, for the calendars.
    pub calendar: Vec<IncidentRecord>,
    /// Set while the checker itself is offline (its connectivity guard fails).
    pub checker_offline_since: Option<DateTime<Utc>>,
}

impl Snapshot {
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

    /// True when there are components and none has been checked yet (a fresh server).
    pub fn all_waiting(&self) -> bool {
        !self.components.is_empty() && self.components.iter().all(|c| c.waiting.is_some())
    }

    /// What the page says about itself in words: the indicator's description, or before any
    /// check "Waiting for the first checks" (a guess of "All Systems Operational" would not be
    /// true). The page's banner, the embed and `/widget.json` say it alike.
    pub fn description(&self) -> &'static str {
        if self.all_waiting() {
            ALL_WAITING
        } else {
            self.indicator().description()
        }
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
