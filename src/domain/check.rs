//! The result of one check. A probe never fails: every failure is a result with a reason.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The verdict of a single check, before thresholds are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Up,
    /// Answered correctly but slowly, or the certificate expires soon.
    Degraded,
    Down,
}

impl Verdict {
    /// The small code stored in the checks table.
    pub fn code(self) -> i64 {
        match self {
            Self::Up => 0,
            Self::Degraded => 1,
            Self::Down => 2,
        }
    }

    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::Up,
            1 => Self::Degraded,
            _ => Self::Down,
        }
    }

    /// Up and degraded checks both count as "the site answered" for uptime.
    pub fn is_success(self) -> bool {
        !matches!(self, Self::Down)
    }
}

/// What one probe found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// When the check started.
    pub at: DateTime<Utc>,
    /// How long it took, body included.
    pub elapsed: Duration,
    pub verdict: Verdict,
    /// Why it is not up, in a few words (`HTTP 503 Service Unavailable`, `timed out after 10s`).
    pub reason: Option<String>,
    /// When the server's TLS certificate expires (https checks that got that far).
    pub cert_expires_at: Option<DateTime<Utc>>,
}

impl CheckResult {
    pub fn up(at: DateTime<Utc>, elapsed: Duration) -> Self {
        Self {
            at,
            elapsed,
            verdict: Verdict::Up,
            reason: None,
            cert_expires_at: None,
        }
    }

    pub fn degraded(at: DateTime<Utc>, elapsed: Duration, reason: impl Into<String>) -> Self {
        Self {
            at,
            elapsed,
            verdict: Verdict::Degraded,
            reason: Some(reason.into()),
            cert_expires_at: None,
        }
    }

    pub fn down(at: DateTime<Utc>, elapsed: Duration, reason: impl Into<String>) -> Self {
        Self {
            at,
            elapsed,
            verdict: Verdict::Down,
            reason: Some(reason.into()),
            cert_expires_at: None,
        }
    }

    /// Records the certificate's expiry with the result.
    pub fn with_certificate(mut self, expires_at: Option<DateTime<Utc>>) -> Self {
        self.cert_expires_at = expires_at;
        self
    }

    /// Marks a good result as degraded when it was slower than `limit`.
    pub fn with_slowness(self, limit: Option<Duration>) -> Self {
        match limit {
            Some(limit) if self.verdict == Verdict::Up && self.elapsed > limit => {
                let reason = format!(
                    "slow: answered in {} ms (degraded above {} ms)",
                    self.elapsed.as_millis(),
                    limit.as_millis()
                );
                Self::degraded(self.at, self.elapsed, reason).with_certificate(self.cert_expires_at)
            }
            _ => self,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_success_becomes_degraded_with_the_times_in_the_reason() {
        let r = CheckResult::up(Utc::now(), Duration::from_millis(2_500))
            .with_slowness(Some(Duration::from_secs(2)));
        assert_eq!(r.verdict, Verdict::Degraded);
        assert_eq!(
            r.reason.as_deref(),
            Some("slow: answered in 2500 ms (degraded above 2000 ms)")
        );
    }

    #[test]
    fn failures_stay_failures_however_slow() {
        let r = CheckResult::down(Utc::now(), Duration::from_secs(9), "HTTP 500")
            .with_slowness(Some(Duration::from_secs(1)));
        assert_eq!(r.verdict, Verdict::Down);
    }

    #[test]
    fn verdict_codes_round_trip() {
        for v in [Verdict::Up, Verdict::Degraded, Verdict::Down] {
            assert_eq!(Verdict::from_code(v.code()), v);
        }
    }
}
