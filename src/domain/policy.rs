//! The incident policy (SPEC §5): what the poller does about a monitor — open an incident
//! (or reopen its own one resolved moments ago), resolve its own, or, on an incident the owner
//! speaks for, set the component quietly. A pure function from the monitor's state, the
//! incidents that cover it, the maintenance windows and the time to a list of decisions;
//! `incidents::apply` carries them out inside the write transaction.

use std::time::Duration;

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
    /// What is probed (a URL without credentials, `host:port`, …): for the owner only, so
    /// public texts take it and its host out of the reason.
    pub target: &'a str,
    /// Its health now, after the check that triggered the policy.
    pub health: Health,
    /// When the current health began: for a down monitor, its first failed check.
    pub since: Option<DateTime<Utc>>,
    /// Why the last check failed (`HTTP 503`, `connection refused`).
    pub reason: Option<&'a str>,
}

/// An open incident that lists the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenIncident {
    pub id: i64,
    pub status: Status,
    /// The poller opened it for this very monitor.
    pub opened_for_it: bool,
    /// The owner opened it or posted to it: their words are its summary, and the poller
    /// writes nothing public on it.
    pub owner_wrote: bool,
}

impl OpenIncident {
    /// The poller speaks on it: its own incident, not taken over by the owner.
    fn pollers(self) -> bool {
        self.opened_for_it && !self.owner_wrote
    }
}

/// The poller's last incident for the monitor, resolved: an outage that returns soon after
/// reopens it instead of opening another (flap damping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub id: i64,
    pub resolved_at: DateTime<Utc>,
    /// The owner posted to it: a new outage is news of its own.
    pub owner_wrote: bool,
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

/// What the policy knows of the monitor's incidents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incidents<'a> {
    /// The open incidents that list it.
    pub open: &'a [OpenIncident],
    /// The poller's newest resolved incident for it, if any.
    pub last_resolved: Option<Resolved>,
    /// An outage back within this long of the resolution reopens it (`[incidents]
    /// reopen_within`; zero: never).
    pub reopen_within: Duration,
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
        /// The component's status before (`None`: never checked, no data).
        was: Option<ComponentStatus>,
    },
    /// The outage came back soon after the poller resolved its incident: investigating again.
    Reopen {
        incident: i64,
        monitor: i64,
        body: String,
        was: Option<ComponentStatus>,
    },
    /// The owner speaks for this incident: give the component its status, write no update
    /// (the owner hears of the change through their `monitor` alert).
    Quiet {
        incident: i64,
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
    incidents: &Incidents<'_>,
    windows: &[Window],
    now: DateTime<Utc>,
) -> Vec<Decision> {
    let in_window = windows.iter().any(|w| w.covers(m.row, now));
    let covering = covering(incidents.open);
    match trigger {
        Trigger::Changed(change) if change.to == Health::Down => {
            if in_window {
                return Vec::new();
            }
            let was = known(change.from);
            vec![went_down(m, covering, incidents, was, now)]
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
            vec![came_back(m, incident, change.to, &how_long)]
        }
        Trigger::Changed(_) => Vec::new(),
        Trigger::WindowEnded => {
            if m.health != Health::Down || in_window || covering.is_some() {
                return Vec::new();
            }
            let was = Some(ComponentStatus::UnderMaintenance);
            vec![went_down(m, None, incidents, was, now)]
        }
    }
}

/// The component status a health gives; `None` for a monitor never checked (no data).
fn known(health: Health) -> Option<ComponentStatus> {
    (health != Health::Unknown).then(|| health.component_status())
}

/// The poller's own incident for this monitor first, else the newest one the owner wrote.
fn covering(open: &[OpenIncident]) -> Option<OpenIncident> {
    open.iter()
        .copied()
        .find(|i| i.opened_for_it)
        .or_else(|| open.iter().copied().max_by_key(|i| i.id))
}

fn went_down(
    m: &MonitorFacts<'_>,
    covering: Option<OpenIncident>,
    incidents: &Incidents<'_>,
    was: Option<ComponentStatus>,
    now: DateTime<Utc>,
) -> Decision {
    let reason = public_reason(m.reason.unwrap_or("check failed"), m.target);
    if let Some(incident) = covering {
        return Decision::Quiet {
            incident: incident.id,
            component: (m.row, ComponentStatus::MajorOutage),
        };
    }
    let reopen = incidents.last_resolved.filter(|r| {
        !r.owner_wrote
            && !incidents.reopen_within.is_zero()
            && (now - r.resolved_at)
                .to_std()
                .is_ok_and(|d| d <= incidents.reopen_within)
    });
    match reopen {
        Some(r) => Decision::Reopen {
            incident: r.id,
            monitor: m.row,
            body: format!(
                "**{}** is down again: {reason}. This was detected automatically.",
                m.name
            ),
            was,
        },
        None => Decision::Open {
            monitor: m.row,
            name: format!("{} is down", m.name),
            since: m.since.unwrap_or(now),
            body: format!(
                "**{}** is down: {reason}. This was detected automatically.",
                m.name
            ),
            was,
        },
    }
}

/// A check's reason in words for clients: public text never carries the monitor's URL, host
/// or port (SPEC §5), which stay in the owner's alerts with the evidence. Word by word: a URL,
/// the monitor's host (with any port after it) and any IP address (a resolved one need not be
/// the host) become "the service"; other words are left whole, so a short host never cuts
/// into one ("on" stays in "connection").
pub fn public_reason(reason: &str, target: &str) -> String {
    let host = host_of(target);
    let mut out = String::with_capacity(reason.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        // Punctuation that ends a sentence or a clause is not part of an address.
        let core = word.trim_end_matches(['.', ':', '!', '?']);
        let tail = &word[core.len()..];
        if hides_where(core, host) {
            out.push_str("the service");
            out.push_str(tail);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in reason.chars() {
        if c.is_whitespace() || "()<>,;\"'`".contains(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// True for a word that says where the service is: a URL, the host (`host`, `host:port`,
/// `[v6]:port`), or an IP address with or without a port.
fn hides_where(word: &str, host: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    if word.contains("://") {
        return true;
    }
    let bare = match word.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => match word.rsplit_once(':') {
            Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => word,
        },
    };
    (!host.is_empty() && (bare.eq_ignore_ascii_case(host) || word.eq_ignore_ascii_case(host)))
        || word.parse::<std::net::IpAddr>().is_ok()
        || bare.parse::<std::net::IpAddr>().is_ok()
        || word.parse::<std::net::SocketAddr>().is_ok()
}

/// `https://user@blog.example:8443/x` → `blog.example`; `db.example:5432` → `db.example`.
fn host_of(target: &str) -> &str {
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    let rest = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    if let Some(v6) = rest.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    rest.split(':').next().unwrap_or(rest)
}

/// The poller resolves only its own incident; on one the owner speaks for, the component
/// quietly takes the status its checks give, and the owner decides when it is over.
fn came_back(
    m: &MonitorFacts<'_>,
    incident: OpenIncident,
    now: Health,
    how_long: &str,
) -> Decision {
    if incident.pollers() {
        Decision::Resolve {
            incident: incident.id,
            monitor: m.row,
            body: format!(
                "**{}** is back up{how_long}. Resolved automatically.",
                m.name
            ),
        }
    } else {
        Decision::Quiet {
            incident: incident.id,
            component: (m.row, now.component_status()),
        }
    }
}

/// How one more message of a paced stream (an incident's mails, a monitor's owner alerts)
/// goes out. At most one message per interval: what comes between is gathered into one held
/// message, which says the latest state and the changes since — nothing is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// Send it now.
    Now,
    /// Hold it until then: the stream sent a message less than an interval ago.
    HoldUntil(DateTime<Utc>),
    /// Gather it into the held message, which keeps its time.
    Join,
    /// Gather it into the held message and send that now (the owner's own words wait for
    /// nobody).
    JoinAndSend,
}

/// A held message this close to its time may be on its way already: the next one waits for
/// the next slot rather than changing it.
pub const HOLD_MARGIN: Duration = Duration::from_secs(5);

/// When the next message of a stream goes out. `urgent`: the owner's words, sent at once.
pub fn pace(
    last_sent: Option<DateTime<Utc>>,
    held_until: Option<DateTime<Utc>>,
    urgent: bool,
    interval: Duration,
    now: DateTime<Utc>,
) -> Pace {
    let margin = chrono::Duration::from_std(HOLD_MARGIN).unwrap_or_default();
    if held_until.is_some_and(|until| now + margin < until) {
        return if urgent {
            Pace::JoinAndSend
        } else {
            Pace::Join
        };
    }
    let Ok(interval) = chrono::Duration::from_std(interval) else {
        return Pace::Now;
    };
    match last_sent {
        _ if urgent || interval.is_zero() => Pace::Now,
        Some(last) if now < last + interval => Pace::HoldUntil(last + interval),
        _ => Pace::Now,
    }
}

/// A monitor's changes of health within `window` before `now`, `now` included, at most
/// `keep` of them: what the flap rule counts.
pub fn recent_changes(
    mut changes: Vec<DateTime<Utc>>,
    now: DateTime<Utc>,
    window: Duration,
    keep: usize,
) -> Vec<DateTime<Utc>> {
    let window = chrono::Duration::from_std(window).unwrap_or_default();
    changes.push(now);
    changes.retain(|t| *t > now - window && *t <= now);
    let skip = changes.len().saturating_sub(keep);
    changes.split_off(skip)
}

/// What the owner's alert of one change of a monitor's health becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alert {
    /// A change like any other.
    Normal,
    /// It just began to flap: one alert that says so.
    StartsFlapping,
    /// It flaps: gathered into a digest, one per window.
    Digest,
}

/// More than `max_changes` changes within the window is flapping.
pub fn flap_alert(recent: &[DateTime<Utc>], was_flapping: bool, max_changes: u32) -> Alert {
    let flapping = recent.len() > max_changes as usize;
    match (flapping, was_flapping) {
        (false, _) => Alert::Normal,
        (true, false) => Alert::StartsFlapping,
        (true, true) => Alert::Digest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + minutes * 60, 0).expect("time")
    }

    const ROW: i64 = 7;
    const THIRTY_MIN: Duration = Duration::from_secs(30 * 60);

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

    fn open(open: &[OpenIncident]) -> Incidents<'_> {
        Incidents {
            open,
            last_resolved: None,
            reopen_within: THIRTY_MIN,
        }
    }

    const OWN: OpenIncident = OpenIncident {
        id: 3,
        status: Status::Investigating,
        opened_for_it: true,
        owner_wrote: false,
    };
    const OWNERS: OpenIncident = OpenIncident {
        id: 9,
        status: Status::Identified,
        opened_for_it: false,
        owner_wrote: true,
    };
    const TAKEN_OVER: OpenIncident = OpenIncident {
        id: 3,
        status: Status::Identified,
        opened_for_it: true,
        owner_wrote: true,
    };

    #[test]
    fn down_opens_an_incident_dated_from_the_first_failure_with_the_status_before() {
        let decisions = decide(
            went(Health::Up, Health::Down, 0),
            &facts(Health::Down, 10),
            &open(&[]),
            &[],
            t(12),
        );
        assert_eq!(
            decisions,
            vec![Decision::Open {
                monitor: ROW,
                name: "Blog is down".into(),
                since: t(10),
                body: "**Blog** is down: HTTP 503 Service Unavailable. This was detected automatically.".into(),
                was: Some(ComponentStatus::Operational),
            }]
        );
    }

    #[test]
    fn a_never_checked_monitor_had_no_status_before() {
        let d = decide(
            went(Health::Unknown, Health::Down, 0),
            &facts(Health::Down, 0),
            &open(&[]),
            &[],
            t(1),
        );
        assert!(
            matches!(&d[..], [Decision::Open { was: None, .. }]),
            "{d:?}"
        );
        let degraded = decide(
            went(Health::Degraded, Health::Down, 0),
            &facts(Health::Down, 0),
            &open(&[]),
            &[],
            t(1),
        );
        assert!(matches!(
            &degraded[..],
            [Decision::Open {
                was: Some(ComponentStatus::DegradedPerformance),
                ..
            }]
        ));
    }

    #[test]
    fn up_resolves_the_pollers_incident_with_the_downtime() {
        let decisions = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 25),
            &open(&[OWN]),
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
            &open(&[]),
            &[],
            t(25),
        );
        assert!(decisions.is_empty());
    }

    #[test]
    fn down_during_a_window_writes_nothing_then_opens_when_the_clock_ends_it() {
        let windows = [window(0, 60)];
        let none = open(&[]);
        let during = decide(
            went(Health::Up, Health::Down, 0),
            &facts(Health::Down, 10),
            &none,
            &windows,
            t(12),
        );
        assert!(during.is_empty(), "{during:?}");
        let still_during = decide(
            Trigger::WindowEnded,
            &facts(Health::Down, 10),
            &none,
            &windows,
            t(59),
        );
        assert!(still_during.is_empty(), "the window still holds");
        let after = decide(
            Trigger::WindowEnded,
            &facts(Health::Down, 10),
            &none,
            &windows,
            t(60),
        );
        assert!(
            matches!(&after[..], [Decision::Open { since, was: Some(ComponentStatus::UnderMaintenance), .. }] if *since == t(10)),
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
            &open(&[]),
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
                &open(&[]),
                &ended,
                t(10)
            )
            .is_empty()
        );
        assert!(
            decide(
                Trigger::WindowEnded,
                &facts(Health::Down, 5),
                &open(&[OWNERS]),
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
                &open(&[]),
                &other,
                t(10)
            )
            .is_empty(),
            "another window still holds it"
        );
    }

    #[test]
    fn on_the_owners_incident_the_poller_only_sets_the_component() {
        let down = decide(
            went(Health::Up, Health::Down, 0),
            &facts(Health::Down, 10),
            &open(&[OWNERS]),
            &[],
            t(12),
        );
        assert_eq!(
            down,
            vec![Decision::Quiet {
                incident: 9,
                component: (ROW, ComponentStatus::MajorOutage),
            }],
            "no public note, no second incident"
        );
        let up = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 20),
            &open(&[OWNERS]),
            &[],
            t(20),
        );
        assert_eq!(
            up,
            vec![Decision::Quiet {
                incident: 9,
                component: (ROW, ComponentStatus::Operational),
            }],
            "the owner decides when their incident is over"
        );
    }

    #[test]
    fn an_incident_the_owner_took_over_is_theirs_to_resolve() {
        let up = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 20),
            &open(&[TAKEN_OVER]),
            &[],
            t(20),
        );
        assert_eq!(
            up,
            vec![Decision::Quiet {
                incident: 3,
                component: (ROW, ComponentStatus::Operational),
            }]
        );
    }

    #[test]
    fn the_pollers_own_incident_wins_over_the_owners() {
        let up = decide(
            went(Health::Down, Health::Up, 10),
            &facts(Health::Up, 20),
            &open(&[OWNERS, OWN]),
            &[],
            t(20),
        );
        assert!(matches!(&up[..], [Decision::Resolve { incident: 3, .. }]));
    }

    #[test]
    fn an_outage_back_within_the_settle_time_reopens_the_pollers_incident() {
        let resolved = Resolved {
            id: 3,
            resolved_at: t(10),
            owner_wrote: false,
        };
        let history = |within: Duration, r: Resolved| Incidents {
            open: &[],
            last_resolved: Some(r),
            reopen_within: within,
        };
        let soon = decide(
            went(Health::Up, Health::Down, 10),
            &facts(Health::Down, 39),
            &history(THIRTY_MIN, resolved),
            &[],
            t(40),
        );
        assert_eq!(
            soon,
            vec![Decision::Reopen {
                incident: 3,
                monitor: ROW,
                body: "**Blog** is down again: HTTP 503 Service Unavailable. This was detected automatically.".into(),
                was: Some(ComponentStatus::Operational),
            }]
        );
        let later = decide(
            went(Health::Up, Health::Down, 10),
            &facts(Health::Down, 40),
            &history(THIRTY_MIN, resolved),
            &[],
            t(41),
        );
        assert!(matches!(&later[..], [Decision::Open { .. }]), "{later:?}");
        let off = decide(
            went(Health::Up, Health::Down, 10),
            &facts(Health::Down, 11),
            &history(Duration::ZERO, resolved),
            &[],
            t(12),
        );
        assert!(matches!(&off[..], [Decision::Open { .. }]), "0s: never");
        let owners = Resolved {
            owner_wrote: true,
            ..resolved
        };
        let theirs = decide(
            went(Health::Up, Health::Down, 10),
            &facts(Health::Down, 11),
            &history(THIRTY_MIN, owners),
            &[],
            t(12),
        );
        assert!(matches!(&theirs[..], [Decision::Open { .. }]), "{theirs:?}");
    }

    #[test]
    fn degraded_and_first_results_write_nothing() {
        for (from, to) in [
            (Health::Unknown, Health::Up),
            (Health::Up, Health::Degraded),
            (Health::Degraded, Health::Up),
        ] {
            assert!(decide(went(from, to, 0), &facts(to, 1), &open(&[OWN]), &[], t(2)).is_empty());
        }
    }

    #[test]
    fn automatic_texts_say_what_failed_and_never_where() {
        let mut m = facts(Health::Down, 0);
        m.reason = Some("connection refused");
        let d = decide(went(Health::Up, Health::Down, 0), &m, &open(&[]), &[], t(1));
        assert!(
            matches!(&d[..], [Decision::Open { body, .. }] if body == "**Blog** is down: connection refused. This was detected automatically."),
            "{d:?}"
        );
        assert_eq!(
            public_reason(
                "NXDOMAIN: blog.example does not exist",
                "https://blog.example/"
            ),
            "NXDOMAIN: the service does not exist"
        );
        assert_eq!(
            public_reason("no address records for db.internal", "db.internal:5432"),
            "no address records for the service"
        );
        assert_eq!(
            public_reason(
                "connection refused (10.0.0.5:8080)",
                "http://10.0.0.5:8080/healthz"
            ),
            "connection refused (the service)"
        );
        assert_eq!(
            public_reason("connection refused", "http://on:80/"),
            "connection refused",
            "a short host never cuts into a word"
        );
        assert_eq!(
            public_reason(
                "connect to 192.168.1.9:443 failed, [::1]:25 too; see https://x.example/a.",
                "https://blog.example/"
            ),
            "connect to the service failed, the service too; see the service."
        );
        assert_eq!(
            public_reason(
                "HTTP 503 after 2 min 55 s at 10:30, TLSv1.2",
                "https://blog.example/"
            ),
            "HTTP 503 after 2 min 55 s at 10:30, TLSv1.2"
        );
        assert_eq!(host_of("http://[::1]:8080/x"), "::1");
        assert_eq!(host_of("http://u@10.0.0.5/healthz"), "10.0.0.5");
    }
    #[test]
    fn a_stream_sends_at_most_one_message_per_interval_and_gathers_the_rest() {
        let ten = Duration::from_secs(600);
        assert_eq!(pace(None, None, false, ten, t(0)), Pace::Now);
        assert_eq!(
            pace(Some(t(0)), None, false, ten, t(3)),
            Pace::HoldUntil(t(10))
        );
        assert_eq!(pace(Some(t(10)), Some(t(10)), false, ten, t(5)), Pace::Join);
        assert_eq!(
            pace(Some(t(10)), Some(t(10)), true, ten, t(5)),
            Pace::JoinAndSend,
            "the owner's words go at once, with what was held"
        );
        assert_eq!(
            pace(Some(t(0)), None, true, ten, t(3)),
            Pace::Now,
            "the owner's words wait for nobody"
        );
        assert_eq!(
            pace(Some(t(10)), Some(t(10)), false, ten, t(10)),
            Pace::HoldUntil(t(20)),
            "a held message due now is on its way: the next slot"
        );
        assert_eq!(pace(Some(t(0)), None, false, ten, t(10)), Pace::Now);
        assert_eq!(
            pace(Some(t(0)), None, false, Duration::ZERO, t(1)),
            Pace::Now
        );
    }

    #[test]
    fn more_changes_than_allowed_within_the_window_is_flapping() {
        let window = Duration::from_secs(600);
        let mut recent = Vec::new();
        let mut alerts = Vec::new();
        let mut flapping = false;
        for minute in 0..10 {
            recent = recent_changes(recent, t(minute), window, 7);
            let alert = flap_alert(&recent, flapping, 6);
            flapping = alert != Alert::Normal;
            alerts.push(alert);
        }
        assert_eq!(&alerts[..6], &[Alert::Normal; 6]);
        assert_eq!(alerts[6], Alert::StartsFlapping);
        assert_eq!(&alerts[7..], &[Alert::Digest; 3]);
        assert_eq!(recent.len(), 7, "bounded");
        let calm = recent_changes(recent, t(60), window, 7);
        assert_eq!(calm.len(), 1);
        assert_eq!(flap_alert(&calm, true, 6), Alert::Normal, "then normal");
    }
}
