//! Time, injected: the server reads the wall clock, tests move a clock of their own, so no test
//! waits for real seconds to pass.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Where "now" comes from: the wall time, for what is shown and stored, and a monotonic
/// reading, for when things run (an NTP step moves the first, never the second).
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
    /// Monotonic time: never steps, only moves forward.
    fn monotonic(&self) -> Instant;
}

/// The wall clock, and the system's monotonic clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
    /// The monotonic reading: where it started and how far it moved since.
    origin: Instant,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Mutex::new(start),
            origin: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        }
    }

    /// Steps the wall time alone, back or forward, as NTP correcting the clock does; the
    /// monotonic reading stays.
    pub fn step_wall(&self, by: chrono::Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.checked_add_signed(by).unwrap_or(*now);
    }

    /// The time it shows.
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Moves the clock forward, wall and monotonic time together (time passing).
    pub fn advance(&self, by: Duration) {
        let by_wall = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::zero());
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now.checked_add_signed(by_wall).unwrap_or(*now);
        *self.elapsed.lock().unwrap_or_else(|p| p.into_inner()) += by;
    }

    /// Sets the clock to `at` when that is later than now (time passing until then).
    pub fn set(&self, at: DateTime<Utc>) {
        let by = (at - self.now()).to_std().unwrap_or_default();
        self.advance(by);
    }

    /// The monotonic reading.
    pub fn monotonic(&self) -> Instant {
        self.origin + *self.elapsed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        ManualClock::now(self)
    }

    fn monotonic(&self) -> Instant {
        ManualClock::monotonic(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_forward_and_only_when_told() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(std::time::Duration::from_secs(90));
        assert_eq!(clock.now(), start + chrono::Duration::seconds(90));
        clock.set(start);
        assert_eq!(clock.now(), start + chrono::Duration::seconds(90));
    }

    #[test]
    fn a_wall_step_leaves_the_monotonic_reading_alone() {
        let start = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        let clock = ManualClock::new(start);
        let before = clock.monotonic();
        clock.step_wall(chrono::Duration::hours(-1));
        assert_eq!(clock.now(), start - chrono::Duration::hours(1));
        assert_eq!(clock.monotonic(), before);
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.monotonic(), before + Duration::from_secs(10));
    }
}
