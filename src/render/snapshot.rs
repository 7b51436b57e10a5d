//! Everything the public pages show, read from the database in one go.

use chrono::{DateTime, Days, Utc};
use rusqlite::Connection;

use crate::db::monitors::{self, MonitorRow};
use crate::db::uptime;
use crate::domain::status::{ComponentStatus, Indicator, page_indicator};
use crate::domain::uptime::{DayCount, date_key};

/// One component (monitor) on the page.
#[derive(Debug, Clone)]
pub struct ComponentView {
    pub monitor: MonitorRow,
    pub status: ComponentStatus,
    /// Daily counts inside the history window, oldest first.
    pub days: Vec<DayCount>,
}

/// The data behind one render of the public site.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub generated_at: DateTime<Utc>,
    pub history_days: u32,
    pub components: Vec<ComponentView>,
}

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
        let components = monitors::list_active(conn)?
            .into_iter()
            .map(|monitor| {
                let days = uptime::daily_counts(conn, monitor.row_id, first_key)?;
                let status = monitor.state.health.component_status();
                Ok(ComponentView {
                    monitor,
                    status,
                    days,
                })
            })
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Self {
            generated_at: now,
            history_days,
            components,
        })
    }

    pub fn indicator(&self) -> Indicator {
        let statuses: Vec<ComponentStatus> = self.components.iter().map(|c| c.status).collect();
        page_indicator(&statuses, &[])
    }

    /// When anything on the page last changed.
    pub fn updated_at(&self) -> DateTime<Utc> {
        self.components
            .iter()
            .filter_map(|c| c.monitor.state.since)
            .chain(self.components.iter().map(|c| c.monitor.updated_at))
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
