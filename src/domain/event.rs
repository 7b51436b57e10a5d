//! Domain events: every change someone outside might care about, as plain values. The code
//! that writes a change emits its events inside the write transaction; they are published on
//! the change stream (`events::Bus`) once the transaction commits, and only then.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::check::Verdict;
use super::incident::{Kind, Status};
use super::monitor::MonitorId;
use super::reminder::ReminderKind;
use super::status::Health;

/// What happened to a maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceChange {
    Scheduled,
    /// Its window or components changed.
    Rescheduled,
    /// Its window began.
    Started,
    /// The owner posted a note on it.
    Noted,
    /// Its window ended, or the owner completed it.
    Completed,
    /// Called off before or during its window.
    Cancelled,
}

/// One change, after it was written.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A check result was stored (every check, so cheap subscribers only).
    CheckRecorded {
        monitor: MonitorId,
        verdict: Verdict,
        elapsed: Duration,
        cert_expires_at: Option<DateTime<Utc>>,
    },
    /// A background job reported the end of a run (every ping but a start).
    JobRan {
        monitor: MonitorId,
        at: DateTime<Utc>,
        succeeded: bool,
        /// How long the run took, when its start was pinged.
        duration: Option<Duration>,
    },
    /// A monitor's health changed (after thresholds).
    MonitorChanged {
        monitor: MonitorId,
        from: Health,
        to: Health,
        /// Why it is not up, from the check that decided it.
        reason: Option<String>,
        /// When the previous health began (for "down for 12 min").
        previous_since: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    },
    /// An update was written on an incident: opened, noted or resolved, by the poller or the
    /// owner.
    IncidentUpdated {
        incident: i64,
        update: i64,
        status: Status,
        automatic: bool,
        /// False when the owner asked that nobody be told (`deliver_notifications: false`).
        notify: bool,
    },
    /// An incident's name or impact changed.
    IncidentEdited { incident: i64, kind: Kind },
    /// An incident or maintenance was deleted.
    IncidentDeleted { incident: i64 },
    /// A maintenance changed; `update` is the update written with the change, if any.
    MaintenanceChanged {
        maintenance: i64,
        change: MaintenanceChange,
        update: Option<i64>,
        /// False when the owner asked that nobody be told.
        notify: bool,
    },
    /// The checker cannot reach its connectivity guard: failures are not counted.
    CheckerOffline { since: DateTime<Utc> },
    /// The checker reaches the outside again.
    CheckerOnline { at: DateTime<Utc> },
    /// An open incident needs the owner's attention (SPEC §9): told to the owner's channels
    /// only, and written with the record that it was sent, so it is sent once.
    Reminder {
        incident: i64,
        kind: ReminderKind,
        /// Since when: the incident's latest update, or its monitors' recovery.
        since: DateTime<Utc>,
    },
}

impl Event {
    /// True for the events that change what the public pages show. A single check does not
    /// (its time and response time are refreshed once a minute), nor a reminder to the owner;
    /// everything else does.
    pub fn changes_pages(&self) -> bool {
        !matches!(self, Self::CheckRecorded { .. } | Self::Reminder { .. })
    }

    /// True for the events of routine work — a check stored, a job's run reported — that
    /// nobody is ever told of: the outbox and the notifier skip them without a look.
    pub fn is_routine(&self) -> bool {
        matches!(self, Self::CheckRecorded { .. } | Self::JobRan { .. })
    }
}
