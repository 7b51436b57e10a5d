//! The incident policy (SPEC §5): what the poller does about a monitor — open an incident,
//! note on one, resolve its own, or leave the owner's alone. A pure function from the monitor's
//! state, the open incidents that cover it, the maintenance windows and the time to a list of
//! decisions; `incidents::apply` carries them out inside the write transaction.

use chrono::{DateTime, Utc};

use super::duration::format_span;
use super::incident::Status;
use super::status::{Change, ComponentStatus, Health};

/// What the policy knows of the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorFacts<'a> {
    /// The monitor's database row.
    pub row: i64,
    pub name: &'a str,
    /// What is probed, for people (a URL without credentials, `host:port`, …).
    pub target: &'a str,
    /// Its health now, after the check that triggered the policy.
    pub health: Health,
    /// When the current health began: for a down monitor, its first failed check.
    pub since: Option<DateTime<Utc>>,
    /// Why the last check failed.
    pub reason: Option<&'a str>,
}

/// An open incident that lists the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenIncident {
    pub id: i64,
    pub status: Status,
    /// The poller opened it for this very monitor (else the owner wrote it).
    pub opened_for_it: bool,
}

/// A maintenance window and the monitors it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Completed or cancelled: the window no longer holds, whatever its times.
    pub over: bool,
    pub monitors: Vec<i64>,
}

impl Window {
    /// True when the window holds `monitor` at `now`.
    pub fn covers(&self, monitor: i64, now: DateTime<Utc>) -> bool {
        !self.over && self.from <= now && now < self.until && self.monitors.contains(&monitor)
    }
}

/// Why the policy runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The monitor's health changed.
    Changed(Change),
    /// A maintenance window covering the monitor ended (by the clock, or the owner completed or
    /// cancelled it): a failure it hid must now be told.
    WindowEnded,
}

/// What to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Open `{name} is down` for the monitor, dated from the outage's first failure.
    Open {
        monitor: i64,
        name: String,
        since: DateTime<Utc>,
        body: String,
    },
    /// Write an update on an open incident (keeping its status) and give the component a status.
    Note {
        incident: i64,
        status: Status,
        body: String,
        component: (i64, ComponentStatus),
    },
    /// Resolve the poller's own incident: the component is operational again.
    Resolve {
        incident: i64,
        monitor: i64,
        body: String,
    },
}

/// The decisions for one trigger. Empty when there is nothing to write.
pub fn decide(
    trigger: Trigger,
    m: &MonitorFacts<'_>,
    open: &[OpenIncident],
    windows: &[Window],
    now: DateTime<Utc>,
) -> Vec<Decision> {
    let in_window = windows.iter().any(|w| w.covers(m.row, now));
    let covering = covering(open);
    match trigger {
        Trigger::Changed(change) if change.to == Health::Down => {
            if in_window {
                return Vec::new();
            }
            vec![went_down(m, covering, now)]
        }
        Trigger::Changed(change) if change.from == Health::Down => {
            let Some(incident) = covering else {
                return Vec::new();
            };
            let how_long = change
                .previous_since
                .and_then(|since| (now - since).to_std().ok())
                .map(|d| format!(" after {}", format_span(d)))
                .unwrap_or_default();
            vec![came_back(m, incident, &how_long)]
        }
        Trigger::Changed(_) => Vec::new(),
        Trigger::WindowEnded => {
            if m.health != Health::Down || in_window || covering.is_some() {
                return Vec::new();
            }
            vec![went_down(m, None, now)]
        }
    }
}

/// The poller's own incident for this monitor first, else the newest one the owner wrote.
fn covering(open: &[OpenIncident]) -> Option<OpenIncident> {
    open.iter()
        .copied()
        .find(|i| i.opened_for_it)
        .or_else(|| open.iter().copied().max_by_key(|i| i.id))
}

fn went_down(m: &MonitorFacts<'_>, covering: Option<OpenIncident>, now: DateTime<Utc>) -> Decision {
    let reason = m.reason.unwrap_or("check failed");
    let body = format!(
        "**{}** is down: {}. This was detected automatically.",
        m.name,
        failure_text(reason, m.target)
    );
    match covering {
        Some(incident) => Decision::Note {
            incident: incident.id,
            status: incident.status,
            body,
            component: (m.row, ComponentStatus::MajorOutage),
        },
        None => Decision::Open {
            monitor: m.row,
            name: format!("{} is down", m.name),
            since: m.since.unwrap_or(now),
            body,
        },
    }
}

/// The owner decides when their incident is over; the poller resolves only its own.
fn came_back(m: &MonitorFacts<'_>, incident: OpenIncident, how_long: &str) -> Decision {
    if incident.opened_for_it {
        Decision::Resolve {
            incident: incident.id,
            monitor: m.row,
            body: format!(
                "**{}** is back up{how_long}. Resolved automatically.",
                m.name
            ),
        }
    } else {
        Decision::Note {
            incident: incident.id,
            status: incident.status,
            body: format!("**{}** is responding again{how_long}.", m.name),
            component: (m.row, ComponentStatus::Operational),
        }
    }
}

/// The first sentence of an automatic update: what failed, and where.
fn failure_text(reason: &str, target: &str) -> String {
    if reason.starts_with("HTTP ") {
        format!("{reason} from {target}")
    } else {
        format!("{reason} ({target})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + minutes * 60, 0).expect("time")
    }

    const ROW: i64 = 7;

    fn facts(health: Health, since: i64) -> MonitorFacts<'static> {
        MonitorFacts {
            row: ROW,
            name: "Blog",
            target: "https://blog.example/",
            health,
            since: Some(t(since)),
            reason: Some("HTTP 503 Service Unavailable"),
        }
    }

    fn went(from: Health, to: Health, previous_since: i64) -> Trigger {
        Trigger::Changed(Change {
            from,
            to,
            previous_since: Some(t(previous_since)),
        })
    }

    fn window(from: i64, until: i64) -> Window {
        Window {
            from: t(from),
            until: t(until),
            over: false,
            monitors: vec![ROW],
        }
    }

    const OWN: OpenIncident = OpenIncident {
        id: 3,
        status: Status::Investigating,
        opened_for_it: true,
    };
    const OWNERS: OpenIncident = OpenIncident {
        id: 9,
        status: Status::Identified,
        opened_for_it: false,
    };

    #[test]
    fn down_opens_an_incident_dated_from_the_first_failure() {
        let decisions = decide(
            went(Health::Up, Health::Down, 0),
            &facts(Health::Down, 10),
            &[],
            &[],
            t(12),
        );
        assert_eq!(
            decisions,
            vec![Decision::Open {
                monitor: ROW,
                name: "Blog is down".into(),
                since: t(10),
                body: "**Blog** is down: HTTP 503 Service Unavailable from https://blog.example/. This was detected automatically.".into(),
            }]
        );
    }

    #[test]
    fn up_resolves_the_pollers_incident_with_the_downtime() {
        let decisions = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 25),
            &[OWN],
            &[],
            t(25),
        );
        assert_eq!(
            decisions,
            vec![Decision::Resolve {
                incident: 3,
                monitor: ROW,
                body: "**Blog** is back up after 15 min. Resolved automatically.".into(),
            }]
        );
    }

    #[test]
    fn up_with_nothing_open_writes_nothing() {
        let decisions = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 25),
            &[],
            &[],
            t(25),
        );
        assert!(decisions.is_empty());
    }

    #[test]
    fn down_during_a_window_writes_nothing_then_opens_when_the_clock_ends_it() {
        let windows = [window(0, 60)];
        let during = decide(
            went(Health::Up, Health::Down, 0),
            &facts(Health::Down, 10),
            &[],
            &windows,
            t(12),
        );
        assert!(during.is_empty(), "{during:?}");
        let still_during = decide(
            Trigger::WindowEnded,
            &facts(Health::Down, 10),
            &[],
            &windows,
            t(59),
        );
        assert!(still_during.is_empty(), "the window still holds");
        let after = decide(
            Trigger::WindowEnded,
            &facts(Health::Down, 10),
            &[],
            &windows,
            t(60),
        );
        assert!(
            matches!(&after[..], [Decision::Open { since, .. }] if *since == t(10)),
            "{after:?}"
        );
    }

    #[test]
    fn down_during_a_window_opens_when_the_owner_completes_it_early() {
        let mut completed = window(0, 60);
        completed.over = true;
        let after = decide(
            Trigger::WindowEnded,
            &facts(Health::Down, 10),
            &[],
            &[completed],
            t(30),
        );
        assert!(matches!(&after[..], [Decision::Open { .. }]), "{after:?}");
    }

    #[test]
    fn a_window_ending_on_a_healthy_or_covered_monitor_writes_nothing() {
        let ended = [window(0, 10)];
        assert!(
            decide(
                Trigger::WindowEnded,
                &facts(Health::Up, 5),
                &[],
                &ended,
                t(10)
            )
            .is_empty()
        );
        assert!(
            decide(
                Trigger::WindowEnded,
                &facts(Health::Down, 5),
                &[OWNERS],
                &ended,
                t(10)
            )
            .is_empty()
        );
        let other = [window(0, 10), window(5, 30)];
        assert!(
            decide(
                Trigger::WindowEnded,
                &facts(Health::Down, 5),
                &[],
                &other,
                t(10)
            )
            .is_empty(),
            "another window still holds it"
        );
    }

    #[test]
    fn the_owners_incident_gets_a_note_not_a_second_incident() {
        let down = decide(
            went(Health::Up, Health::Down, 0),
            &facts(Health::Down, 10),
            &[OWNERS],
            &[],
            t(12),
        );
        assert!(
            matches!(
                &down[..],
                [Decision::Note {
                    incident: 9,
                    status: Status::Identified,
                    component: (ROW, ComponentStatus::MajorOutage),
                    ..
                }]
            ),
            "{down:?}"
        );
        let up = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 20),
            &[OWNERS],
            &[],
            t(20),
        );
        assert_eq!(
            up,
            vec![Decision::Note {
                incident: 9,
                status: Status::Identified,
                body: "**Blog** is responding again after 10 min.".into(),
                component: (ROW, ComponentStatus::Operational),
            }],
            "the owner decides when their incident is over"
        );
    }

    #[test]
    fn the_pollers_own_incident_wins_over_the_owners() {
        let up = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 20),
            &[OWNERS, OWN],
            &[],
            t(20),
        );
        assert!(matches!(&up[..], [Decision::Resolve { incident: 3, .. }]));
    }

    #[test]
    fn degraded_and_first_results_write_nothing() {
        for (from, to) in [
            (Health::Unknown, Health::Up),
            (Health::Up, Health::Degraded),
            (Health::Degraded, Health::Up),
        ] {
            assert!(decide(went(from, to, 0), &facts(to, 1), &[OWN], &[], t(2)).is_empty());
        }
    }

    #[test]
    fn reasons_other_than_http_statuses_name_the_target_in_brackets() {
        let mut m = facts(Health::Down, 0);
        m.reason = Some("timed out after 10s");
        let d = decide(went(Health::Up, Health::Down, 0), &m, &[], &[], t(1));
        assert!(
            matches!(&d[..], [Decision::Open { body, .. }] if body.contains("timed out after 10s (https://blog.example/)")),
            "{d:?}"
        );
    }
}
