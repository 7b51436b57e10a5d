//! Heartbeats: a background job pings after every run; it is down when no ping came within
//! its grace period, or when it reported a failure.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::check::CheckResult;
use super::duration::{format_duration, format_span};

/// A background job that pings us after every run; down when no ping came within `grace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatSpec {
    pub grace: Duration,
    /// SHA-256 of the ping token in the URL `/ping/{token}`.
    pub token_sha256: [u8; 32],
}

impl HeartbeatSpec {
    /// What is watched, for people.
    pub fn target(&self) -> String {
        format!("heartbeat, grace {}", format_duration(self.grace))
    }
}

/// The last ping: when, and whether the job said it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    pub at: DateTime<Utc>,
    pub failed: bool,
}

/// The verdict at `now`. Before the first ping, the grace period runs from `watching_since`
/// (when the server started); within it there is nothing to say yet (`None`).
pub fn verdict(
    last: Option<Ping>,
    grace: Duration,
    watching_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<CheckResult> {
    let grace_text = format_duration(grace);
    match last {
        Some(ping) if ping.failed => Some(CheckResult::down(
            now,
            Duration::ZERO,
            format!(
                "the job reported a failure at {}",
                ping.at.format("%Y-%m-%d %H:%M UTC")
            ),
        )),
        Some(ping) => {
            let since = (now - ping.at).to_std().unwrap_or_default();
            if since > grace {
                Some(CheckResult::down(
                    now,
                    Duration::ZERO,
                    format!("no ping for {} (grace {grace_text})", format_span(since)),
                ))
            } else {
                Some(CheckResult::up(now, Duration::ZERO))
            }
        }
        None => {
            let waited = (now - watching_since).to_std().unwrap_or_default();
            (waited > grace).then(|| {
                CheckResult::down(
                    now,
                    Duration::ZERO,
                    format!("no ping received yet (grace {grace_text})"),
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::check::Verdict;

    fn t(sec: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + sec, 0).expect("time")
    }

    const HOUR: Duration = Duration::from_secs(3_600);

    #[test]
    fn a_ping_within_grace_is_up_and_a_late_one_down() {
        let ping = Some(Ping {
            at: t(0),
            failed: false,
        });
        assert_eq!(
            verdict(ping, HOUR, t(0), t(3_000)).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        let late = verdict(ping, HOUR, t(0), t(4_000)).expect("verdict");
        assert_eq!(late.verdict, Verdict::Down);
        assert_eq!(
            late.reason.as_deref(),
            Some("no ping for 1 h 6 min (grace 1h)")
        );
    }

    #[test]
    fn a_reported_failure_is_down() {
        let failed = verdict(
            Some(Ping {
                at: t(0),
                failed: true,
            }),
            HOUR,
            t(0),
            t(10),
        )
        .expect("verdict");
        assert_eq!(failed.verdict, Verdict::Down);
        assert!(
            failed
                .reason
                .as_deref()
                .unwrap_or("")
                .starts_with("the job reported a failure")
        );
    }

    #[test]
    fn before_the_first_ping_the_grace_runs_from_the_start() {
        assert_eq!(verdict(None, HOUR, t(0), t(100)), None);
        assert_eq!(
            verdict(None, HOUR, t(0), t(4_000)).map(|r| r.verdict),
            Some(Verdict::Down)
        );
    }
}
