//! Owner reminders (SPEC §9): which open incidents need the owner's attention now. A pure
//! function from the `[reminders]` settings, what is known of each open incident (its latest
//! update, its monitors' health, the reminders already sent) and the time to the reminders
//! due; `incidents::reminders` writes them, with the record that they were sent, in one
//! transaction.
//!
//! - `incident_without_update`: an open incident whose latest update — the owner's or the
//!   poller's, since both are what clients see — is older than the setting. Once per update:
//!   a new update re-arms it, and a later silence reminds again. Incidents the poller opened
//!   count too: all their clients have read is an automatic message.
//! - `recovered_but_open`: an open incident whose affected monitors (those still configured)
//!   are all up, have been for the setting, and at least one came up after the incident
//!   began — a recovery the incident saw, not a problem the monitors never noticed. Once per
//!   incident. An incident that affects no monitor never qualifies.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::incident::Status;
use super::status::Health;

/// The `[reminders]` section: each reminder is off when its duration is not set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// Remind when an open incident has had no update for this long.
    pub incident_without_update: Option<Duration>,
    /// Remind when every affected monitor has been up again for this long.
    pub recovered_but_open: Option<Duration>,
}

impl Settings {
    /// True when some reminder is on.
    pub fn any(&self) -> bool {
        self.incident_without_update.is_some() || self.recovered_but_open.is_some()
    }
}

/// The two reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReminderKind {
    /// An open incident has had no update for `incident_without_update`.
    IncidentWithoutUpdate,
    /// Every affected monitor has been up for `recovered_but_open`; the incident is still open.
    RecoveredButOpen,
}

impl ReminderKind {
    pub const ALL: [Self; 2] = [Self::IncidentWithoutUpdate, Self::RecoveredButOpen];

    /// The setting's name, which is also how it is stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IncidentWithoutUpdate => "incident_without_update",
            Self::RecoveredButOpen => "recovered_but_open",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One affected monitor still configured: its health and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorHealth {
    pub health: Health,
    pub since: Option<DateTime<Utc>>,
}

/// What is known of one open incident (kind incident, not resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFacts {
    pub id: i64,
    pub status: Status,
    pub started_at: DateTime<Utc>,
    /// Its latest update: the update's id and when it was written.
    pub latest_update: Option<(i64, DateTime<Utc>)>,
    /// Its affected monitors that are still configured.
    pub monitors: Vec<MonitorHealth>,
    /// The update the last `incident_without_update` reminder was about, if one was sent.
    pub silence_reminded: Option<i64>,
    /// A `recovered_but_open` reminder was sent.
    pub recovery_reminded: bool,
}

/// A reminder to send now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub incident: i64,
    pub kind: ReminderKind,
    /// What it is about, remembered so it is sent once: the latest update's id for
    /// `incident_without_update` (0 when the incident has none), 0 for `recovered_but_open`.
    pub anchor: i64,
    /// Since when: the latest update, or the last affected monitor's recovery.
    pub since: DateTime<Utc>,
}

/// The reminders due at `now`, in the order of `incidents`.
pub fn due(settings: &Settings, incidents: &[IncidentFacts], now: DateTime<Utc>) -> Vec<Due> {
    let mut out = Vec::new();
    for incident in incidents.iter().filter(|i| !i.status.is_closed()) {
        if let Some(after) = settings.incident_without_update
            && let Some(due) = silence(incident, after, now)
        {
            out.push(due);
        }
        if let Some(after) = settings.recovered_but_open
            && let Some(due) = recovery(incident, after, now)
        {
            out.push(due);
        }
    }
    out
}

/// True when `since` lies at least `after` before `now` (a duration beyond the calendar never
/// passes).
fn elapsed(since: DateTime<Utc>, after: Duration, now: DateTime<Utc>) -> bool {
    chrono::Duration::from_std(after)
        .ok()
        .and_then(|after| since.checked_add_signed(after))
        .is_some_and(|at| at <= now)
}

fn silence(i: &IncidentFacts, after: Duration, now: DateTime<Utc>) -> Option<Due> {
    let (anchor, since) = i.latest_update.unwrap_or((0, i.started_at));
    if i.silence_reminded == Some(anchor) || !elapsed(since, after, now) {
        return None;
    }
    Some(Due {
        incident: i.id,
        kind: ReminderKind::IncidentWithoutUpdate,
        anchor,
        since,
    })
}

fn recovery(i: &IncidentFacts, after: Duration, now: DateTime<Utc>) -> Option<Due> {
    if i.recovery_reminded || i.monitors.is_empty() {
        return None;
    }
    let mut last_up: Option<DateTime<Utc>> = None;
    for m in &i.monitors {
        let since = m.since.filter(|_| m.health == Health::Up)?;
        if !elapsed(since, after, now) {
            return None;
        }
        last_up = last_up.max(Some(since));
    }
    let since = last_up.filter(|s| *s > i.started_at)?;
    Some(Due {
        incident: i.id,
        kind: ReminderKind::RecoveredButOpen,
        anchor: 0,
        since,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + minutes * 60, 0).expect("time")
    }

    const BOTH: Settings = Settings {
        incident_without_update: Some(Duration::from_secs(3_600)),
        recovered_but_open: Some(Duration::from_secs(900)),
    };
    const RECOVERED_ONLY: Settings = Settings {
        incident_without_update: None,
        recovered_but_open: Some(Duration::from_secs(900)),
    };

    fn incident(latest: i64) -> IncidentFacts {
        IncidentFacts {
            id: 4,
            status: Status::Investigating,
            started_at: t(0),
            latest_update: Some((11, t(latest))),
            monitors: Vec::new(),
            silence_reminded: None,
            recovery_reminded: false,
        }
    }

    fn up(since: i64) -> MonitorHealth {
        MonitorHealth {
            health: Health::Up,
            since: Some(t(since)),
        }
    }

    #[test]
    fn a_silent_incident_is_due_once_its_latest_update_is_as_old_as_the_setting() {
        let i = incident(5);
        assert_eq!(due(&BOTH, std::slice::from_ref(&i), t(64)), vec![]);
        assert_eq!(
            due(&BOTH, &[i], t(65)),
            vec![Due {
                incident: 4,
                kind: ReminderKind::IncidentWithoutUpdate,
                anchor: 11,
                since: t(5),
            }]
        );
    }

    #[test]
    fn the_silence_reminder_is_sent_once_per_update_and_a_new_update_re_arms_it() {
        let mut i = incident(5);
        i.silence_reminded = Some(11);
        assert_eq!(due(&BOTH, std::slice::from_ref(&i), t(500)), vec![]);
        i.latest_update = Some((12, t(100)));
        assert_eq!(due(&BOTH, std::slice::from_ref(&i), t(159)), vec![]);
        let again = due(&BOTH, &[i], t(160));
        assert_eq!(again.len(), 1);
        assert_eq!((again[0].anchor, again[0].since), (12, t(100)));
    }

    #[test]
    fn an_incident_without_updates_counts_from_its_start() {
        let mut i = incident(0);
        i.latest_update = None;
        let due = due(&BOTH, &[i], t(60));
        assert_eq!((due[0].anchor, due[0].since), (0, t(0)));
    }

    #[test]
    fn resolved_incidents_and_settings_left_out_remind_nobody() {
        let mut i = incident(0);
        i.monitors = vec![up(10)];
        assert_eq!(
            due(&Settings::default(), std::slice::from_ref(&i), t(999)),
            vec![]
        );
        i.status = Status::Postmortem;
        assert_eq!(due(&BOTH, &[i], t(999)), vec![]);
    }

    #[test]
    fn recovered_is_due_when_every_monitor_has_been_up_for_the_setting() {
        let mut i = incident(0);
        i.monitors = vec![up(10), up(20)];
        assert_eq!(
            due(&RECOVERED_ONLY, std::slice::from_ref(&i), t(34)),
            vec![]
        );
        assert_eq!(
            due(&RECOVERED_ONLY, std::slice::from_ref(&i), t(35)),
            vec![Due {
                incident: 4,
                kind: ReminderKind::RecoveredButOpen,
                anchor: 0,
                since: t(20),
            }]
        );
        i.recovery_reminded = true;
        assert_eq!(
            due(&RECOVERED_ONLY, &[i], t(999)),
            vec![],
            "once per incident"
        );
    }

    #[test]
    fn recovered_waits_for_every_monitor_and_needs_one() {
        let mut i = incident(0);
        assert_eq!(
            due(&RECOVERED_ONLY, std::slice::from_ref(&i), t(999)),
            vec![],
            "no monitor"
        );
        for other in [Health::Down, Health::Degraded, Health::Unknown] {
            i.monitors = vec![
                up(10),
                MonitorHealth {
                    health: other,
                    since: Some(t(10)),
                },
            ];
            assert_eq!(
                due(&RECOVERED_ONLY, std::slice::from_ref(&i), t(999)),
                vec![]
            );
        }
    }

    #[test]
    fn monitors_up_since_before_the_incident_began_did_not_recover() {
        let mut i = incident(0);
        i.started_at = t(100);
        i.monitors = vec![up(10)];
        assert_eq!(
            due(&RECOVERED_ONLY, std::slice::from_ref(&i), t(999)),
            vec![]
        );
        i.monitors.push(up(120));
        assert_eq!(due(&RECOVERED_ONLY, &[i], t(135)).len(), 1);
    }

    #[test]
    fn a_setting_beyond_the_calendar_never_passes() {
        let huge = Settings {
            incident_without_update: Some(Duration::from_secs(u64::MAX / 4)),
            recovered_but_open: None,
        };
        assert_eq!(due(&huge, &[incident(0)], t(1_000_000)), vec![]);
    }

    #[test]
    fn kinds_round_trip_as_their_setting_names() {
        for kind in ReminderKind::ALL {
            assert_eq!(ReminderKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ReminderKind::parse("nag"), None);
    }
}
