//! Status words (exactly as Atlassian Statuspage spells them) and the per-monitor state machine.

use chrono::{DateTime, Utc};

use super::check::Verdict;
use super::monitor::Thresholds;

/// A component's status, as shown on the page and in the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ComponentStatus {
    Operational,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
    UnderMaintenance,
}

impl ComponentStatus {
    pub const ALL: [Self; 5] = [
        Self::Operational,
        Self::DegradedPerformance,
        Self::PartialOutage,
        Self::MajorOutage,
        Self::UnderMaintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::DegradedPerformance => "degraded_performance",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
            Self::UnderMaintenance => "under_maintenance",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            Self::Operational => "Operational",
            Self::DegradedPerformance => "Degraded performance",
            Self::PartialOutage => "Partial outage",
            Self::MajorOutage => "Major outage",
            Self::UnderMaintenance => "Under maintenance",
        }
    }

    /// How bad it is, for "the worse one wins". Maintenance ranks below any problem.
    pub fn severity(self) -> u8 {
        match self {
            Self::Operational => 0,
            Self::UnderMaintenance => 1,
            Self::DegradedPerformance => 2,
            Self::PartialOutage => 3,
            Self::MajorOutage => 4,
        }
    }

    /// The worse of two statuses.
    pub fn worst(self, other: Self) -> Self {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

/// Incident impact, as Statuspage spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    None,
    Minor,
    Major,
    Critical,
}

impl Impact {
    pub const ALL: [Self; 4] = [Self::None, Self::Minor, Self::Major, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The page indicator: one word for the whole page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Indicator {
    None,
    Maintenance,
    Minor,
    Major,
    Critical,
}

impl Indicator {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Maintenance => "maintenance",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    /// Statuspage's own descriptions of each indicator.
    pub fn description(self) -> &'static str {
        match self {
            Self::None => "All Systems Operational",
            Self::Maintenance => "Service Under Maintenance",
            Self::Minor => "Minor Service Outage",
            Self::Major => "Partial System Outage",
            Self::Critical => "Major System Outage",
        }
    }
}

/// The page indicator from component statuses and the impacts of unresolved incidents:
/// the worst of them wins; maintenance shows only when nothing is worse.
pub fn page_indicator(statuses: &[ComponentStatus], open_impacts: &[Impact]) -> Indicator {
    let all_down =
        !statuses.is_empty() && statuses.iter().all(|s| *s == ComponentStatus::MajorOutage);
    let from_components = statuses
        .iter()
        .map(|s| match s {
            ComponentStatus::Operational => Indicator::None,
            ComponentStatus::UnderMaintenance => Indicator::Maintenance,
            ComponentStatus::DegradedPerformance => Indicator::Minor,
            ComponentStatus::PartialOutage => Indicator::Major,
            ComponentStatus::MajorOutage if all_down => Indicator::Critical,
            ComponentStatus::MajorOutage => Indicator::Major,
        })
        .max()
        .unwrap_or(Indicator::None);
    let from_incidents = open_impacts
        .iter()
        .map(|i| match i {
            Impact::None => Indicator::None,
            Impact::Minor => Indicator::Minor,
            Impact::Major => Indicator::Major,
            Impact::Critical => Indicator::Critical,
        })
        .max()
        .unwrap_or(Indicator::None);
    from_components.max(from_incidents)
}

/// What the checks say about a monitor, after thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Not enough checks yet to say.
    Unknown,
    Up,
    Degraded,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Up => "up",
            Self::Degraded => "degraded",
            Self::Down => "down",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "up" => Self::Up,
            "degraded" => Self::Degraded,
            "down" => Self::Down,
            _ => Self::Unknown,
        }
    }

    /// The component status the checks alone give.
    pub fn component_status(self) -> ComponentStatus {
        match self {
            Self::Unknown | Self::Up => ComponentStatus::Operational,
            Self::Degraded => ComponentStatus::DegradedPerformance,
            Self::Down => ComponentStatus::MajorOutage,
        }
    }
}

/// A change of health, reported by [`MonitorState::observe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub from: Health,
    pub to: Health,
    /// When the previous health began (for "down for 12 min").
    pub previous_since: Option<DateTime<Utc>>,
}

/// The per-monitor state machine. Stored in the database after every check, so a restart
/// resumes exactly where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitorState {
    pub health: Health,
    /// When the current health began.
    pub since: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub consecutive_successes: u32,
    /// When the current run of failures began; an outage is dated from its first failure.
    pub failing_since: Option<DateTime<Utc>>,
}

impl Default for MonitorState {
    fn default() -> Self {
        Self {
            health: Health::Unknown,
            since: None,
            consecutive_failures: 0,
            consecutive_successes: 0,
            failing_since: None,
        }
    }
}

impl MonitorState {
    /// Feeds one check's verdict; returns the change of health, if any.
    pub fn observe(
        &mut self,
        verdict: Verdict,
        thresholds: Thresholds,
        at: DateTime<Utc>,
    ) -> Option<Change> {
        let next = match verdict {
            Verdict::Down => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.consecutive_successes = 0;
                if self.consecutive_failures == 1 {
                    self.failing_since = Some(at);
                }
                let confirmed = self.consecutive_failures >= thresholds.failures_before_down.max(1);
                (self.health != Health::Down && confirmed).then_some(Health::Down)
            }
            Verdict::Up | Verdict::Degraded => {
                self.consecutive_successes = self.consecutive_successes.saturating_add(1);
                self.consecutive_failures = 0;
                self.failing_since = None;
                let target = if verdict == Verdict::Up {
                    Health::Up
                } else {
                    Health::Degraded
                };
                let recovered = self.consecutive_successes >= thresholds.successes_before_up.max(1);
                let allowed = self.health != Health::Down || recovered;
                (self.health != target && allowed).then_some(target)
            }
        };
        let to = next?;
        let change = Change {
            from: self.health,
            to,
            previous_since: self.since,
        };
        self.health = to;
        // An outage starts at its first failed check, not at the check that confirmed it.
        self.since = Some(if to == Health::Down {
            self.failing_since.unwrap_or(at)
        } else {
            at
        });
        Some(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(sec: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + sec, 0)
            .single()
            .expect("valid time")
    }

    const TH: Thresholds = Thresholds {
        failures_before_down: 3,
        successes_before_up: 2,
    };

    fn run(state: &mut MonitorState, verdicts: &[Verdict]) -> Vec<Change> {
        verdicts
            .iter()
            .enumerate()
            .filter_map(|(i, v)| state.observe(*v, TH, t(i as i64)))
            .collect()
    }

    use Verdict::{Degraded as G, Down as D, Up as U};

    #[test]
    fn first_success_makes_an_unknown_monitor_up() {
        let mut s = MonitorState::default();
        let changes = run(&mut s, &[U]);
        assert_eq!(changes.len(), 1);
        assert_eq!(s.health, Health::Up);
    }

    #[test]
    fn down_only_after_the_threshold_of_consecutive_failures() {
        let mut s = MonitorState::default();
        run(&mut s, &[U, D, D]);
        assert_eq!(s.health, Health::Up);
        let changes = run(&mut s, &[D]);
        assert_eq!(s.health, Health::Down);
        assert_eq!(changes[0].from, Health::Up);
    }

    #[test]
    fn one_failure_in_three_never_goes_down() {
        let mut s = MonitorState::default();
        let pattern: Vec<Verdict> = (0..60).map(|i| if i % 3 == 0 { D } else { U }).collect();
        let changes = run(&mut s, &pattern);
        assert!(changes.iter().all(|c| c.to != Health::Down));
    }

    #[test]
    fn up_again_only_after_the_threshold_of_successes() {
        let mut s = MonitorState::default();
        run(&mut s, &[D, D, D]);
        assert_eq!(s.health, Health::Down);
        run(&mut s, &[U, D, U]);
        assert_eq!(s.health, Health::Down, "interrupted recovery stays down");
        let changes = run(&mut s, &[U]);
        assert_eq!(s.health, Health::Up);
        assert_eq!(changes[0].from, Health::Down);
        assert!(changes[0].previous_since.is_some());
    }

    #[test]
    fn an_outage_is_dated_from_its_first_failure() {
        let mut s = MonitorState::default();
        run(&mut s, &[U, D, D, D]);
        assert_eq!(s.since, Some(t(1)));
    }

    #[test]
    fn repeated_failures_report_down_once() {
        let mut s = MonitorState::default();
        let changes = run(&mut s, &[D, D, D, D, D, D, D]);
        assert_eq!(changes.iter().filter(|c| c.to == Health::Down).count(), 1);
    }

    #[test]
    fn slow_results_degrade_and_fast_ones_restore() {
        let mut s = MonitorState::default();
        run(&mut s, &[U, G]);
        assert_eq!(s.health, Health::Degraded);
        run(&mut s, &[U]);
        assert_eq!(s.health, Health::Up);
    }

    #[test]
    fn degraded_results_count_towards_recovery() {
        let mut s = MonitorState::default();
        run(&mut s, &[D, D, D, G, G]);
        assert_eq!(s.health, Health::Degraded);
    }

    #[test]
    fn indicator_follows_the_worst_component_or_incident() {
        use ComponentStatus::*;
        assert_eq!(
            page_indicator(&[Operational, Operational], &[]),
            Indicator::None
        );
        assert_eq!(
            page_indicator(&[Operational, DegradedPerformance], &[]),
            Indicator::Minor
        );
        assert_eq!(
            page_indicator(&[Operational, MajorOutage], &[]),
            Indicator::Major
        );
        assert_eq!(
            page_indicator(&[MajorOutage, MajorOutage], &[]),
            Indicator::Critical
        );
        assert_eq!(
            page_indicator(&[Operational, UnderMaintenance], &[]),
            Indicator::Maintenance
        );
        assert_eq!(
            page_indicator(&[UnderMaintenance, PartialOutage], &[]),
            Indicator::Major
        );
        assert_eq!(
            page_indicator(&[Operational], &[Impact::Critical]),
            Indicator::Critical
        );
        assert_eq!(page_indicator(&[], &[]), Indicator::None);
    }

    #[test]
    fn status_words_round_trip() {
        for s in ComponentStatus::ALL {
            assert_eq!(ComponentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ComponentStatus::parse("down"), None);
    }
}
