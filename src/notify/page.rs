//! The page indicator a notification carries (Statuspage's `page.status_indicator`), kept up to
//! date as the outbox sees each change, with work proportional to the change: a monitor's
//! change re-reads that monitor, an incident's change that incident and the monitors it lists.
//! Reading the whole site for every message made a mass outage quadratic: 1,000 monitors going
//! down cost the writer 11 s of CPU with one channel, against 0.7 s with none.
//!
//! It starts over from the whole site (one read) when it has none yet, after a write it saw was
//! rolled back, and when the clock crosses the start or end of a maintenance window (those
//! change what the page says with no write at all).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::db::incidents;
use crate::db::page::{self, IncidentFacts};
use crate::domain::event::Event;
use crate::domain::incident::{Kind, component_status};
use crate::domain::status::{ComponentStatus, Impact, Indicator};

/// The indicator's inputs, counted.
#[derive(Default)]
struct Tally {
    /// Each active monitor's component status.
    components: HashMap<i64, ComponentStatus>,
    /// How many monitors have each status (indexed by [`ComponentStatus::severity`]).
    by_status: [usize; 5],
    /// Open incidents and maintenances not completed, with the monitors they list.
    incidents: HashMap<i64, IncidentFacts>,
    /// How many open incidents have each impact (indexed by `Impact as usize`).
    by_impact: [usize; 4],
    /// The stretch of time in which no maintenance window starts or ends.
    quiet: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
}

/// The page indicator for the outbox; see the module's documentation.
#[derive(Default)]
pub struct PageStatus {
    tally: Mutex<Option<Tally>>,
    /// How many times the whole site was read (tests and benchmarks look).
    full_reads: std::sync::atomic::AtomicU64,
}

impl PageStatus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes note of `event` (its writes are in `conn`'s transaction already) and returns the
    /// page indicator at `now`. Call it for every event that is not routine.
    pub fn after(
        &self,
        conn: &Connection,
        event: &Event,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<Indicator> {
        let mut kept = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        let current = kept.take().filter(|t| t.is_quiet_at(now));
        let mut tally = match current {
            Some(tally) => tally,
            None => {
                self.full_reads
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Tally::read(conn, now)?
            }
        };
        // On an error the tally is dropped: the next event starts over.
        tally.note(conn, event, now)?;
        let indicator = tally.indicator();
        *kept = Some(tally);
        Ok(indicator)
    }

    /// A write this saw was rolled back: what it noted may be untrue.
    pub fn forget(&self) {
        *self.tally.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// How many times the whole site was read.
    pub fn full_reads(&self) -> u64 {
        self.full_reads.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Tally {
    /// The whole site, at `now`.
    fn read(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<Self> {
        let mut tally = Self::default();
        for incident in page::open_incidents(conn)? {
            tally.add_incident(incident, now);
        }
        let open = incidents::open_component_statuses(conn)?;
        let in_maintenance: HashSet<i64> = incidents::monitors_in_maintenance(conn, now)?
            .into_iter()
            .collect();
        for (row, health) in page::active_health(conn)? {
            let statuses = open.get(&row).map_or(&[][..], Vec::as_slice);
            let status = component_status(health, statuses, in_maintenance.contains(&row));
            tally.set(row, Some(status));
        }
        Ok(tally)
    }

    fn is_quiet_at(&self, now: DateTime<Utc>) -> bool {
        let (from, until) = self.quiet;
        from.is_none_or(|f| f <= now) && until.is_none_or(|u| now < u)
    }

    /// Re-reads what `event` changed.
    fn note(
        &mut self,
        conn: &Connection,
        event: &Event,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        match event {
            Event::MonitorChanged { monitor, .. } => {
                if let Some(row) = page::active_row(conn, monitor.as_str())? {
                    self.refresh_row(conn, row, now)?;
                }
            }
            Event::IncidentUpdated { incident, .. }
            | Event::IncidentEdited { incident, .. }
            | Event::IncidentDeleted { incident }
            | Event::MaintenanceChanged {
                maintenance: incident,
                ..
            } => self.refresh_incident(conn, *incident, now)?,
            Event::CheckRecorded { .. }
            | Event::JobRan { .. }
            | Event::CheckerOffline { .. }
            | Event::CheckerOnline { .. }
            | Event::Reminder { .. } => {}
        }
        Ok(())
    }

    fn refresh_incident(
        &mut self,
        conn: &Connection,
        id: i64,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        let mut rows: HashSet<i64> = HashSet::new();
        if let Some(old) = self.remove_incident(id) {
            rows.extend(old.rows);
        }
        if let Some(new) = page::incident(conn, id)?.filter(|i| i.open) {
            rows.extend(new.rows.iter().copied());
            self.add_incident(new, now);
        }
        for row in rows {
            self.refresh_row(conn, row, now)?;
        }
        Ok(())
    }

    fn refresh_row(
        &mut self,
        conn: &Connection,
        row: i64,
        now: DateTime<Utc>,
    ) -> rusqlite::Result<()> {
        let status =
            page::component_inputs(conn, row, now)?.map(|(health, statuses, in_maintenance)| {
                component_status(health, &statuses, in_maintenance)
            });
        self.set(row, status);
        Ok(())
    }

    fn add_incident(&mut self, incident: IncidentFacts, now: DateTime<Utc>) {
        match incident.kind {
            Kind::Incident => self.by_impact[incident.impact as usize] += 1,
            Kind::Maintenance => {
                if let Some((from, until)) = incident.window {
                    for edge in [from, until] {
                        self.quiet = narrowed(self.quiet, edge, now);
                    }
                }
            }
        }
        self.incidents.insert(incident.id, incident);
    }

    fn remove_incident(&mut self, id: i64) -> Option<IncidentFacts> {
        let old = self.incidents.remove(&id)?;
        if old.kind == Kind::Incident {
            let count = &mut self.by_impact[old.impact as usize];
            *count = count.saturating_sub(1);
        }
        Some(old)
    }

    /// Sets a monitor's status (`None`: it is no longer on the page).
    fn set(&mut self, row: i64, status: Option<ComponentStatus>) {
        let old = match status {
            Some(status) => self.components.insert(row, status),
            None => self.components.remove(&row),
        };
        if let Some(old) = old {
            let count = &mut self.by_status[usize::from(old.severity())];
            *count = count.saturating_sub(1);
        }
        if let Some(new) = status {
            self.by_status[usize::from(new.severity())] += 1;
        }
    }

    /// The same answer as [`crate::domain::status::page_indicator`] over every component and
    /// open incident, from the counts.
    fn indicator(&self) -> Indicator {
        let count = |s: ComponentStatus| self.by_status[usize::from(s.severity())];
        let total = self.components.len();
        let from_components = if count(ComponentStatus::MajorOutage) > 0 {
            if count(ComponentStatus::MajorOutage) == total {
                Indicator::Critical
            } else {
                Indicator::Major
            }
        } else if count(ComponentStatus::PartialOutage) > 0 {
            Indicator::Major
        } else if count(ComponentStatus::DegradedPerformance) > 0 {
            Indicator::Minor
        } else if count(ComponentStatus::UnderMaintenance) > 0 {
            Indicator::Maintenance
        } else {
            Indicator::None
        };
        let from_incidents = Impact::ALL
            .into_iter()
            .rev()
            .find(|i| self.by_impact[*i as usize] > 0)
            .map_or(Indicator::None, |i| match i {
                Impact::None => Indicator::None,
                Impact::Minor => Indicator::Minor,
                Impact::Major => Indicator::Major,
                Impact::Critical => Indicator::Critical,
            });
        from_components.max(from_incidents)
    }
}

/// `quiet` without the instant `edge`: the stretch around `now` it leaves.
fn narrowed(
    (from, until): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    edge: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    if edge <= now {
        (Some(from.map_or(edge, |f| f.max(edge))), until)
    } else {
        (from, Some(until.map_or(edge, |u| u.min(edge))))
    }
}
