//! Counting what strangers do: at most `max` events per key within a sliding window, in memory
//! that stays bounded however many keys come by. Used for failed logins and tokens, sign-ups
//! and heartbeat pings.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A sliding-window counter per key.
pub struct WindowLimit<K> {
    max: usize,
    window: Duration,
    /// Keys remembered at most; beyond, the key seen least recently is forgotten.
    capacity: usize,
    recent: Mutex<Recent<K>>,
}

struct Recent<K> {
    by_key: HashMap<K, VecDeque<Instant>>,
    /// When expired keys were last swept out (a sweep reads every key: not on every event).
    swept: Option<Instant>,
}

/// What [`WindowLimit::allow`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    /// Refused; the first refusal of a window is the one worth a log line.
    Refused {
        first: bool,
    },
}

impl Verdict {
    pub fn allowed(self) -> bool {
        self == Self::Allowed
    }
}

impl<K: Hash + Eq + Copy> WindowLimit<K> {
    pub fn new(max: usize, window: Duration, capacity: usize) -> Self {
        Self {
            max,
            window,
            capacity: capacity.max(1),
            recent: Mutex::new(Recent {
                by_key: HashMap::new(),
                swept: None,
            }),
        }
    }

    /// Counts an event for `key` at `now` when fewer than `max` happened within the window.
    pub fn allow(&self, key: K, now: Instant) -> Verdict {
        let mut guard = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let Recent { by_key, swept } = &mut *guard;
        if by_key.len() >= self.capacity && !by_key.contains_key(&key) {
            let window = self.window;
            let due = swept.is_none_or(|at| now.saturating_duration_since(at) >= window / 4);
            if due {
                by_key.retain(|_, times| {
                    times
                        .back()
                        .is_some_and(|t| now.saturating_duration_since(*t) < window)
                });
                *swept = Some(now);
            }
            // Still full: forget one key, never everyone's counts.
            if by_key.len() >= self.capacity
                && let Some(any) = by_key.keys().next().copied()
            {
                by_key.remove(&any);
            }
        }
        let times = by_key.entry(key).or_default();
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() >= self.max {
            // The refusal is counted too (up to twice the limit): a client that keeps going
            // stays refused, and the first refusal is told apart for the log.
            let first = times.len() == self.max;
            if times.len() < self.max * 2 {
                times.push_back(now);
            }
            return Verdict::Refused { first };
        }
        times.push_back(now);
        Verdict::Allowed
    }

    /// Takes back the last event counted for `key` (an attempt that turned out well).
    pub fn undo(&self, key: K) {
        let mut guard = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(times) = guard.by_key.get_mut(&key) {
            times.pop_back();
        }
    }
}

/// The part of an address that names one client: an IPv6 host has a whole /64 to rotate
/// through, so it counts by its /64.
pub fn client_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_and_keys_are_separate() {
        let limit = WindowLimit::new(2, Duration::from_secs(60), 100);
        let t0 = Instant::now();
        assert!(limit.allow(1, t0).allowed());
        assert!(limit.allow(1, t0).allowed());
        assert_eq!(limit.allow(1, t0), Verdict::Refused { first: true });
        assert_eq!(limit.allow(1, t0), Verdict::Refused { first: false });
        assert!(limit.allow(2, t0).allowed(), "another key");
        let later = t0 + Duration::from_secs(61);
        assert!(limit.allow(1, later).allowed(), "the window moved on");
    }

    #[test]
    fn undo_takes_back_one_event() {
        let limit = WindowLimit::new(1, Duration::from_secs(60), 100);
        let t0 = Instant::now();
        assert!(limit.allow("a", t0).allowed());
        limit.undo("a");
        assert!(limit.allow("a", t0).allowed());
    }

    #[test]
    fn memory_stays_bounded() {
        let limit = WindowLimit::new(1, Duration::from_secs(60), 10);
        let t0 = Instant::now();
        for k in 0..1_000 {
            limit.allow(k, t0 + Duration::from_millis(k));
            assert!(limit.recent.lock().expect("lock").by_key.len() <= 10);
        }
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert_eq!(client_key(mapped), IpAddr::from([192, 0, 2, 1]));
    }
}
