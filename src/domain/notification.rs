//! Notifications as plain values: what kind of event a message is about, how urgent it is, and
//! when a failed delivery is tried again (SPEC §7: 10 s doubling to 1 h, given up after 24 h).

use std::time::Duration;

/// The events a channel can listen to (`events = [...]` in a `[[notify]]`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A monitor went down, degraded or up again; the checker went offline or back.
    Monitor,
    /// An update on an incident, automatic or the owner's.
    Incident,
    /// A maintenance was scheduled, rescheduled, started, noted, completed or cancelled.
    Maintenance,
    /// A reminder to the owner about an incident that needs attention.
    Reminder,
}

impl EventKind {
    pub const ALL: [Self; 4] = [
        Self::Monitor,
        Self::Incident,
        Self::Maintenance,
        Self::Reminder,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monitor => "monitor",
            Self::Incident => "incident",
            Self::Maintenance => "maintenance",
            Self::Reminder => "reminder",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Subscribers (clients) hear only these: never the owner's monitor alerts or reminders.
    pub fn for_subscribers(self) -> bool {
        matches!(self, Self::Incident | Self::Maintenance)
    }
}

/// How urgent a message is: ntfy's priority, a colour in chat.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Planned work, an all-clear.
    Low,
    Normal,
    /// Something is degraded.
    High,
    /// Something is down.
    Urgent,
}

impl Severity {
    /// ntfy's priority, 1 (min) to 5 (max).
    pub fn ntfy_priority(self) -> u8 {
        match self {
            Self::Low => 2,
            Self::Normal => 3,
            Self::High => 4,
            Self::Urgent => 5,
        }
    }
}

/// The first retry waits this long; each further one twice as long as the previous.
pub const FIRST_RETRY: Duration = Duration::from_secs(10);
/// Retries are never further apart than this.
pub const LONGEST_RETRY: Duration = Duration::from_secs(3_600);
/// A delivery that has not succeeded this long after it was written is given up.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3_600);

/// How long to wait after the `attempts`-th failed attempt (1 for the first failure).
pub fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    FIRST_RETRY
        .saturating_mul(1u32 << doublings)
        .min(LONGEST_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_ten_seconds_up_to_an_hour() {
        let delays: Vec<u64> = (1..=11).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(
            delays,
            vec![10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(retry_delay(1_000), LONGEST_RETRY);
    }

    #[test]
    fn event_words_round_trip_and_subscribers_hear_only_two() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("everything"), None);
        let heard: Vec<EventKind> = EventKind::ALL
            .into_iter()
            .filter(|k| k.for_subscribers())
            .collect();
        assert_eq!(heard, vec![EventKind::Incident, EventKind::Maintenance]);
    }
}
