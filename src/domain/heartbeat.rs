//! Background jobs (SPEC §9): a job pings when a run starts, succeeds or fails. When a run is
//! expected — after each ping, every `period`, or at the times of a crontab line in the job's
//! time zone — and whether it is late, failed or stuck, decided from what was stored.

use std::fmt;
use std::time::Duration;

use chrono::{
    DateTime, DurationRound, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

use super::check::CheckResult;
use super::duration::{format_duration, format_span};

/// When runs are expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Only `grace`: each ping is expected within `grace` of the one before.
    AfterEachPing,
    /// `period = "1h"`: a run every period after the last success.
    Every(Duration),
    /// `schedule = "30 2 * * *"`: a run at each time of the crontab line.
    Schedule(Box<JobSchedule>),
}

/// A success this long (at most `grace`) before a scheduled run answers for that run.
const EARLY_PING: Duration = Duration::from_secs(5);

/// Runs looked at, at most, for one next run (six hours of a job every minute, when the
/// clocks go back).
const WALK: usize = 600;
/// The longest jump of the clocks looked past (whole minutes).
const GAP_MINUTES: i64 = 240;

/// A 5-field crontab line read in a time zone, with cron's rules on daylight saving: a
/// fixed-time run (neither minute nor hour starting with `*`, lists and ranges included)
/// inside the hour the clocks skip runs as the clocks move on (02:30 on the spring night runs
/// at 03:00), one inside the repeated hour runs once, the first time; runs of `*` minutes or
/// hours simply follow the wall clock (none in the skipped hour, both in the repeated one).
#[derive(Clone)]
pub struct JobSchedule {
    line: String,
    timezone: Tz,
    cron: croner::Cron,
    /// Neither the minute nor the hour starts with `*` (cron's "fixed-time" job).
    fixed_time: bool,
}

impl JobSchedule {
    /// Reads a 5-field crontab line (`minute hour day month weekday`).
    pub fn parse(line: &str, timezone: Tz) -> Result<Self, String> {
        let fields = line.split_whitespace().count();
        if fields != 5 {
            return Err(format!(
                "schedule \"{line}\" has {fields} fields; write 5 (minute hour day month weekday), e.g. \"30 2 * * *\""
            ));
        }
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Disallowed)
            .build()
            .parse(line)
            .map_err(|e| {
                format!("schedule \"{line}\" is not a crontab line ({e}); e.g. \"30 2 * * *\"")
            })?;
        let mut fields = line.split_whitespace();
        let fixed_time = fields.by_ref().take(2).all(|f| !f.starts_with('*'));
        let schedule = Self {
            line: line.to_string(),
            timezone,
            cron,
            fixed_time,
        };
        // A line that names no real day ("0 0 31 2 *") would never expect a run.
        let probe = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
        if schedule.next_after(probe).is_none() {
            return Err(format!(
                "schedule \"{line}\" never comes due; check the day and month fields"
            ));
        }
        Ok(schedule)
    }

    pub fn line(&self) -> &str {
        &self.line
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The first expected run strictly after `at` (whole seconds).
    pub fn next_after(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let zone = self.timezone;
        let at = at.duration_trunc(TimeDelta::seconds(1)).ok()?;
        let offset = |t: DateTime<Utc>| {
            zone.offset_from_utc_datetime(&t.naive_utc())
                .fix()
                .local_minus_utc()
        };
        // When the clocks go back within the next hours, a run whose wall-clock time is
        // before `at`'s can still come after it: look from three hours before.
        let folds_ahead = offset(at) > offset(at + TimeDelta::hours(3));
        let local = at.with_timezone(&zone).naive_local();
        let mut cursor = if folds_ahead {
            local - TimeDelta::hours(3)
        } else {
            local - TimeDelta::seconds(1)
        };
        let mut best: Option<DateTime<Utc>> = None;
        for _ in 0..WALK {
            // The crontab line read on wall-clock time, without zones; zones come after.
            let wall = self
                .cron
                .find_next_occurrence(&cursor.and_utc(), false)
                .ok()?
                .naive_utc();
            if let Some(found) = best {
                let found_wall = found.with_timezone(&zone).naive_local();
                if !folds_ahead || wall > found_wall + TimeDelta::hours(3) {
                    break;
                }
            }
            for run in self.instants(wall) {
                if run > at && best.is_none_or(|b| run < b) {
                    best = Some(run);
                }
            }
            cursor = wall;
        }
        best
    }

    /// When a run at wall-clock time `wall` happens, by cron's rules: once; in the repeated
    /// hour, once (fixed times) or at both (`*` in the minute or hour); in the skipped hour,
    /// at the jump (fixed times) or not at all.
    fn instants(&self, wall: NaiveDateTime) -> Vec<DateTime<Utc>> {
        match self.timezone.from_local_datetime(&wall) {
            LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
            LocalResult::Ambiguous(first, _) if self.fixed_time => {
                vec![first.with_timezone(&Utc)]
            }
            LocalResult::Ambiguous(first, second) => {
                vec![first.with_timezone(&Utc), second.with_timezone(&Utc)]
            }
            LocalResult::None if self.fixed_time => (1..=GAP_MINUTES)
                .map(|m| wall + TimeDelta::minutes(m))
                .find_map(|w| self.timezone.from_local_datetime(&w).earliest())
                .map(|t| t.with_timezone(&Utc))
                .into_iter()
                .collect(),
            LocalResult::None => Vec::new(),
        }
    }
}

impl PartialEq for JobSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.line == other.line && self.timezone == other.timezone
    }
}

impl Eq for JobSchedule {}

impl fmt::Debug for JobSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JobSchedule({:?} in {})", self.line, self.timezone)
    }
}

/// A background job that pings us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatSpec {
    pub expect: Expect,
    /// How late a run may report.
    pub grace: Duration,
    /// How long a started run may take before it counts as failed.
    pub max_runtime: Duration,
    /// The zone runs are expected in and reasons are written in.
    pub timezone: Tz,
    /// SHA-256 of the ping token in the URL `/ping/{token}`.
    pub token_sha256: [u8; 32],
}

impl HeartbeatSpec {
    /// What is watched, for people.
    pub fn target(&self) -> String {
        let grace = format_duration(self.grace);
        match &self.expect {
            Expect::AfterEachPing => format!("heartbeat, grace {grace}"),
            Expect::Every(period) => {
                format!(
                    "heartbeat every {}, grace {grace}",
                    format_duration(*period)
                )
            }
            Expect::Schedule(s) => format!(
                "heartbeat \"{}\" ({}), grace {grace}",
                s.line(),
                s.timezone()
            ),
        }
    }

    /// The run expected next after a success at `after` (or after watching began).
    pub fn next_expected(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.expect {
            Expect::AfterEachPing => Some(after),
            Expect::Every(period) => after.checked_add_signed(TimeDelta::from_std(*period).ok()?),
            Expect::Schedule(s) => s.next_after(after),
        }
    }

    /// From when the run owed is counted: the last success (a success a few seconds before
    /// a scheduled time answers for that run, as a job's clock may run ahead of ours; one
    /// dated ahead of `now` counts as now), or, before any, when watching began; never before
    /// the expectation itself last changed (a new schedule does not judge old runs).
    fn reference(
        &self,
        last_success: Option<DateTime<Utc>>,
        watching_since: DateTime<Utc>,
        expect_since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let early = match self.expect {
            Expect::Schedule(_) => {
                TimeDelta::from_std(self.grace.min(EARLY_PING)).unwrap_or(TimeDelta::zero())
            }
            _ => TimeDelta::zero(),
        };
        let from = last_success.map_or(watching_since, |s| s.min(now) + early);
        expect_since.map_or(from, |since| from.max(since.min(now)))
    }

    /// The run expected next, for people: the run owed while it may still report, else (on
    /// a schedule, when that run is late) the next time after now.
    pub fn next_due(
        &self,
        last_success: Option<DateTime<Utc>>,
        expect_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if last_success.is_none() && !matches!(self.expect, Expect::Schedule(_)) {
            return None;
        }
        let reference = self.reference(last_success, expect_since, Some(expect_since), now);
        let owed = self.next_expected(reference)?;
        let owed = match self.expect {
            Expect::AfterEachPing => {
                owed.checked_add_signed(TimeDelta::from_std(self.grace).ok()?)?
            }
            _ => owed,
        };
        let grace = TimeDelta::from_std(self.grace).ok()?;
        match &self.expect {
            _ if owed.checked_add_signed(grace).is_some_and(|d| d >= now) => Some(owed),
            Expect::Schedule(s) => s.next_after(now),
            _ => None,
        }
    }

    /// The next `n` runs expected after `from`, as if each reported in time.
    pub fn upcoming(&self, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut runs = Vec::with_capacity(n);
        let mut at = from;
        while runs.len() < n {
            match self.next_expected(at) {
                Some(next) if next > at => {
                    runs.push(next);
                    at = next;
                }
                _ => break,
            }
        }
        runs
    }
}

/// What a ping says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `/ping/{token}`, or `/ping/{token}/0` (`exit_status` Some(0)).
    Success { exit_status: Option<u8> },
    /// `/ping/{token}/start`: a run began.
    Start,
    /// `/ping/{token}/fail`, or a non-zero `/ping/{token}/{exit_status}`.
    Failure { exit_status: Option<u8> },
}

impl Signal {
    /// The signal of the path after the token: `""`, `start`, `fail` or an exit status 0–255.
    pub fn from_path(tail: &str) -> Option<Self> {
        match tail {
            "" => Some(Self::Success { exit_status: None }),
            "start" => Some(Self::Start),
            "fail" => Some(Self::Failure { exit_status: None }),
            digits
                if (1..=3).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                match digits.parse::<u8>() {
                    Ok(0) => Some(Self::Success {
                        exit_status: Some(0),
                    }),
                    Ok(code) => Some(Self::Failure {
                        exit_status: Some(code),
                    }),
                    Err(_) => None,
                }
            }
            _ => None,
        }
    }

    /// The word stored with the ping and shown to the owner.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Success { .. } => "success",
            Self::Start => "start",
            Self::Failure { .. } => "fail",
        }
    }

    pub fn exit_status(&self) -> Option<u8> {
        match self {
            Self::Success { exit_status } | Self::Failure { exit_status } => *exit_status,
            Self::Start => None,
        }
    }
}

/// What is stored of a job's runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobState {
    /// The last run that ended: when, and whether it failed (with its exit status).
    pub last_end: Option<RunEnd>,
    /// The last success.
    pub last_success: Option<DateTime<Utc>>,
    /// A run that started and has not ended yet.
    pub started: Option<DateTime<Utc>>,
    /// When what is expected of the job last changed (its schedule, period or grace).
    pub expect_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunEnd {
    pub at: DateTime<Utc>,
    pub failed: bool,
    pub exit_status: Option<u8>,
}

impl JobState {
    /// The state after `signal` at `at`, and the duration of the run it ended, if it was
    /// started.
    pub fn after(mut self, signal: Signal, at: DateTime<Utc>) -> (Self, Option<Duration>) {
        let failed = match signal {
            // A start dated before the last end (two pings crossing) begins no run.
            Signal::Start if self.last_end.is_some_and(|e| at <= e.at) => return (self, None),
            Signal::Start => {
                self.started = Some(at);
                return (self, None);
            }
            Signal::Success { .. } => false,
            Signal::Failure { .. } => true,
        };
        let duration = self.started.take().and_then(|s| (at - s).to_std().ok());
        self.last_end = Some(RunEnd {
            at,
            failed,
            exit_status: signal.exit_status(),
        });
        if !failed {
            self.last_success = Some(at);
        }
        (self, duration)
    }
}

/// Times in reasons, in the job's zone: "02:30", or "27 Nov 02:30" on another day than `now`.
fn clock(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> String {
    let (at, now) = (at.with_timezone(&zone), now.with_timezone(&zone));
    if at.date_naive() == now.date_naive() {
        at.format("%H:%M").to_string()
    } else {
        at.format("%-d %b %H:%M").to_string()
    }
}

/// " (CET)": the zone once at the end of a reason.
fn zone_note(at: DateTime<Utc>, zone: Tz) -> String {
    format!(" ({})", at.with_timezone(&zone).format("%Z"))
}

/// "the 02:30 run did not report by 03:30 (CET)"; across a change of clocks each time
/// names its own zone: "the 01:30 EST run did not report by 03:30 EDT".
fn missed(
    what: &str,
    expected: DateTime<Utc>,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: Tz,
) -> String {
    let abbreviation = |at: DateTime<Utc>| at.with_timezone(&zone).format("%Z").to_string();
    let (from, by) = (clock(expected, now, zone), clock(deadline, now, zone));
    let (from_zone, by_zone) = (abbreviation(expected), abbreviation(deadline));
    if from_zone == by_zone {
        format!(
            "{}{by}{}",
            what.replace("{}", &from),
            zone_note(expected, zone)
        )
    } else {
        format!(
            "{}{by} {by_zone}",
            what.replace("{}", &format!("{from} {from_zone}"))
        )
    }
}

/// The verdict at `now`: down when the last run failed, when a started run has taken longer
/// than `max_runtime`, or when the run expected after the last success has not reported
/// within `grace`. Before the first ping, runs are expected from `watching_since`; until the
/// first of them is due there is nothing to say (`None`).
pub fn verdict(
    spec: &HeartbeatSpec,
    state: &JobState,
    watching_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<CheckResult> {
    let zone = spec.timezone;
    let down = |reason: String| Some(CheckResult::down(now, Duration::ZERO, reason));
    if let Some(end) = state.last_end.filter(|e| e.failed) {
        let when = clock(end.at, now, zone);
        return down(match end.exit_status {
            Some(code) => format!("exit status {code} at {when}{}", zone_note(end.at, zone)),
            None => format!(
                "the job reported a failure at {when}{}",
                zone_note(end.at, zone)
            ),
        });
    }
    // A start dated ahead of the clock (the clock was set back) is not a run under way.
    let under_way = state
        .started
        .filter(|s| state.last_end.is_none_or(|e| *s > e.at) && *s <= now + TimeDelta::minutes(1));
    if let Some(started) = under_way {
        let running = (now - started).to_std().unwrap_or_default();
        if running > spec.max_runtime {
            return down(format!(
                "started {}, not finished after {}{}",
                clock(started, now, zone),
                format_span(spec.max_runtime),
                zone_note(started, zone)
            ));
        }
        // A run under way answers for the run expected.
        return Some(CheckResult::up(now, Duration::ZERO));
    }
    let grace = TimeDelta::from_std(spec.grace).unwrap_or(TimeDelta::MAX);
    let reference = spec.reference(state.last_success, watching_since, state.expect_since, now);
    let expected = spec.next_expected(reference)?;
    let deadline = expected.checked_add_signed(grace)?;
    if now <= deadline {
        return state
            .last_success
            .map(|_| CheckResult::up(now, Duration::ZERO));
    }
    let grace_text = format_duration(spec.grace);
    down(match (&spec.expect, state.last_success) {
        (Expect::AfterEachPing, Some(last)) => format!(
            "no ping for {} (grace {grace_text})",
            format_span((now - last).to_std().unwrap_or_default())
        ),
        (Expect::AfterEachPing, None) => format!("no ping received yet (grace {grace_text})"),
        (Expect::Schedule(_), _) => missed(
            "the {} run did not report by ",
            expected,
            deadline,
            now,
            zone,
        ),
        (Expect::Every(_), _) => missed(
            "the run expected at {} did not report by ",
            expected,
            deadline,
            now,
            zone,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::check::Verdict;

    fn t(sec: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + sec, 0).expect("time")
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    const HOUR: Duration = Duration::from_secs(3_600);

    fn spec(expect: Expect, grace: Duration) -> HeartbeatSpec {
        HeartbeatSpec {
            expect,
            grace,
            max_runtime: grace,
            timezone: Tz::UTC,
            token_sha256: [0; 32],
        }
    }

    fn scheduled(line: &str, zone: Tz) -> Expect {
        Expect::Schedule(Box::new(JobSchedule::parse(line, zone).expect("schedule")))
    }

    fn success(at: DateTime<Utc>) -> JobState {
        JobState::default()
            .after(Signal::Success { exit_status: None }, at)
            .0
    }

    fn reason(result: Option<CheckResult>) -> String {
        let result = result.expect("a verdict");
        assert_eq!(result.verdict, Verdict::Down);
        result.reason.unwrap_or_default()
    }

    #[test]
    fn a_ping_within_grace_is_up_and_a_late_one_down() {
        let spec = spec(Expect::AfterEachPing, HOUR);
        let state = success(t(0));
        assert_eq!(
            verdict(&spec, &state, t(0), t(3_000)).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        assert_eq!(
            reason(verdict(&spec, &state, t(0), t(4_000))),
            "no ping for 1 h 6 min (grace 1h)"
        );
    }

    #[test]
    fn a_reported_failure_is_down_with_its_exit_status() {
        let spec = spec(Expect::AfterEachPing, HOUR);
        let at = utc("2026-11-29T02:34:00Z");
        let failed = JobState::default()
            .after(Signal::Failure { exit_status: None }, at)
            .0;
        assert_eq!(
            reason(verdict(&spec, &failed, at, at)),
            "the job reported a failure at 02:34 (UTC)"
        );
        let exit = JobState::default()
            .after(
                Signal::Failure {
                    exit_status: Some(3),
                },
                at,
            )
            .0;
        assert_eq!(
            reason(verdict(&spec, &exit, at, at + TimeDelta::days(1))),
            "exit status 3 at 29 Nov 02:34 (UTC)"
        );
        // The next success clears it.
        let (ok, _) = exit.after(
            Signal::Success { exit_status: None },
            at + TimeDelta::hours(1),
        );
        assert_eq!(
            verdict(&spec, &ok, at, at + TimeDelta::hours(1)).map(|r| r.verdict),
            Some(Verdict::Up)
        );
    }

    #[test]
    fn before_the_first_ping_the_grace_runs_from_the_start() {
        let spec = spec(Expect::AfterEachPing, HOUR);
        let none = JobState::default();
        assert_eq!(verdict(&spec, &none, t(0), t(100)), None);
        assert_eq!(
            reason(verdict(&spec, &none, t(0), t(4_000))),
            "no ping received yet (grace 1h)"
        );
    }

    #[test]
    fn a_scheduled_run_is_late_at_its_time_plus_grace_not_before() {
        let spec = spec(scheduled("*/1 * * * *", Tz::UTC), Duration::from_secs(20));
        let last = utc("2026-11-29T10:00:05Z");
        let state = success(last);
        // Expected 10:01:00; down only after 10:01:20.
        assert_eq!(
            verdict(&spec, &state, last, utc("2026-11-29T10:01:20Z")).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        assert_eq!(
            reason(verdict(&spec, &state, last, utc("2026-11-29T10:01:21Z"))),
            "the 10:01 run did not report by 10:01 (UTC)"
        );
        let nightly = HeartbeatSpec {
            grace: HOUR,
            ..spec.clone()
        };
        let nightly = HeartbeatSpec {
            expect: scheduled("30 2 * * *", Tz::Europe__Berlin),
            timezone: Tz::Europe__Berlin,
            ..nightly
        };
        // Last success 02:31 CET on the 28th; the 29th's 02:30 run never reports.
        let state = success(utc("2026-11-28T01:31:00Z"));
        assert_eq!(
            reason(verdict(&nightly, &state, t(0), utc("2026-11-29T02:31:00Z"))),
            "the 02:30 run did not report by 03:30 (CET)"
        );
    }

    #[test]
    fn a_period_expects_a_run_every_period_after_the_last_success() {
        let spec = spec(Expect::Every(HOUR), Duration::from_secs(300));
        let state = success(utc("2026-11-29T10:00:00Z"));
        assert_eq!(
            verdict(&spec, &state, t(0), utc("2026-11-29T11:05:00Z")).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        assert_eq!(
            reason(verdict(&spec, &state, t(0), utc("2026-11-29T11:06:00Z"))),
            "the run expected at 11:00 did not report by 11:05 (UTC)"
        );
    }

    #[test]
    fn a_started_run_is_up_until_max_runtime_then_down() {
        let spec = HeartbeatSpec {
            max_runtime: HOUR,
            ..spec(scheduled("30 2 * * *", Tz::UTC), Duration::from_secs(600))
        };
        let start = utc("2026-11-29T02:30:00Z");
        let state = success(start - TimeDelta::days(1));
        let (running, none) = state.after(Signal::Start, start);
        assert_eq!(none, None);
        // Past the expected run plus grace, but running: up.
        assert_eq!(
            verdict(&spec, &running, t(0), start + TimeDelta::minutes(50)).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        assert_eq!(
            reason(verdict(
                &spec,
                &running,
                t(0),
                start + TimeDelta::minutes(61)
            )),
            "started 02:30, not finished after 1 h (UTC)"
        );
        let (done, took) = running.after(
            Signal::Success {
                exit_status: Some(0),
            },
            start + TimeDelta::minutes(42),
        );
        assert_eq!(took, Some(Duration::from_secs(42 * 60)));
        assert_eq!(done.started, None);
        assert_eq!(
            verdict(&spec, &done, t(0), start + TimeDelta::minutes(61)).map(|r| r.verdict),
            Some(Verdict::Up)
        );
    }

    #[test]
    fn pings_paths_name_their_signal() {
        assert_eq!(
            Signal::from_path(""),
            Some(Signal::Success { exit_status: None })
        );
        assert_eq!(Signal::from_path("start"), Some(Signal::Start));
        assert_eq!(
            Signal::from_path("0"),
            Some(Signal::Success {
                exit_status: Some(0)
            })
        );
        assert_eq!(
            Signal::from_path("255"),
            Some(Signal::Failure {
                exit_status: Some(255)
            })
        );
        for bad in ["256", "-1", "1000", "00001", "ok", "+3"] {
            assert_eq!(Signal::from_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn schedules_are_five_fields_that_come_due() {
        assert!(JobSchedule::parse("30 2 * * *", Tz::UTC).is_ok());
        for bad in [
            "0 30 2 * * *",
            "30 2 * *",
            "61 * * * *",
            "0 0 31 2 *",
            "nonsense",
        ] {
            assert!(JobSchedule::parse(bad, Tz::UTC).is_err(), "{bad}");
        }
    }

    /// The runs expected after `from`, as "YYYY-MM-DD HH:MM" UTC.
    fn runs(line: &str, zone: Tz, from: &str, n: usize) -> Vec<String> {
        let spec = HeartbeatSpec {
            timezone: zone,
            ..spec(scheduled(line, zone), HOUR)
        };
        spec.upcoming(utc(from), n)
            .iter()
            .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    #[test]
    fn berlin_spring_forward_2026_runs_the_skipped_0230_job_at_0300() {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC).
        assert_eq!(
            runs("30 2 * * *", Tz::Europe__Berlin, "2026-03-27T12:00:00Z", 3),
            [
                "2026-03-28 01:30", // 02:30 CET
                "2026-03-29 01:00", // 02:30 does not exist: 03:00 CEST
                "2026-03-30 00:30", // 02:30 CEST
            ]
        );
        // Every 15 minutes follows the wall clock: nothing in the skipped hour.
        assert_eq!(
            runs(
                "*/15 * * * *",
                Tz::Europe__Berlin,
                "2026-03-29T00:40:00Z",
                3
            ),
            ["2026-03-29 00:45", "2026-03-29 01:00", "2026-03-29 01:15"]
        );
    }

    #[test]
    fn berlin_fall_back_2026_runs_the_0230_job_once() {
        // 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC); 02:30 happens twice.
        assert_eq!(
            runs("30 2 * * *", Tz::Europe__Berlin, "2026-10-24T12:00:00Z", 3),
            [
                "2026-10-25 00:30", // the first 02:30 (CEST) only
                "2026-10-26 01:30", // 02:30 CET
                "2026-10-27 01:30",
            ]
        );
        // Every 30 minutes runs in both 02:00 hours.
        assert_eq!(
            runs(
                "*/30 2 * * *",
                Tz::Europe__Berlin,
                "2026-10-24T23:50:00Z",
                4
            ),
            [
                "2026-10-25 00:00",
                "2026-10-25 00:30",
                "2026-10-25 01:00",
                "2026-10-25 01:30"
            ]
        );
    }

    #[test]
    fn new_york_spring_forward_2026_runs_the_skipped_0230_job_at_0300() {
        // 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00 UTC).
        assert_eq!(
            runs(
                "30 2 * * *",
                Tz::America__New_York,
                "2026-03-07T12:00:00Z",
                3
            ),
            [
                "2026-03-08 07:00", // 03:00 EDT
                "2026-03-09 06:30", // 02:30 EDT
                "2026-03-10 06:30",
            ]
        );
        // A late grace crosses the change: 01:30 EST + 1 h is 03:30 EDT.
        let spec = HeartbeatSpec {
            timezone: Tz::America__New_York,
            ..spec(scheduled("30 1 * * *", Tz::America__New_York), HOUR)
        };
        let state = success(utc("2026-03-07T06:31:00Z"));
        assert_eq!(
            reason(verdict(&spec, &state, t(0), utc("2026-03-08T07:31:00Z"))),
            "the 01:30 EST run did not report by 03:30 EDT"
        );
    }

    #[test]
    fn lists_and_ranges_of_hours_are_fixed_times_as_cron_reads_them() {
        // 25 October 2026, Berlin: 02:30 happens twice; cron runs "30 2,14" and "0 1-5" once.
        assert_eq!(
            runs(
                "30 2,14 * * *",
                Tz::Europe__Berlin,
                "2026-10-24T23:00:00Z",
                3
            ),
            ["2026-10-25 00:30", "2026-10-25 13:30", "2026-10-26 01:30"]
        );
        assert_eq!(
            runs("0 1-5 * * *", Tz::Europe__Berlin, "2026-10-24T22:30:00Z", 5),
            [
                "2026-10-24 23:00", // 01:00 CEST
                "2026-10-25 00:00", // 02:00 CEST, and not again at 02:00 CET
                "2026-10-25 02:00", // 03:00 CET
                "2026-10-25 03:00",
                "2026-10-25 04:00"
            ]
        );
        // 29 March 2026: the skipped 02:30 of "30 2,14" runs at 03:00 CEST.
        assert_eq!(
            runs(
                "30 2,14 * * *",
                Tz::Europe__Berlin,
                "2026-03-28T23:00:00Z",
                2
            ),
            ["2026-03-29 01:00", "2026-03-29 12:30"]
        );
    }

    #[test]
    fn a_success_seconds_before_the_run_answers_for_it() {
        let spec = spec(scheduled("30 2 * * *", Tz::UTC), HOUR);
        // The job's clock runs 2 s ahead of ours.
        let state = success(utc("2026-11-29T02:29:58Z"));
        assert_eq!(
            verdict(&spec, &state, t(0), utc("2026-11-29T03:31:00Z")).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        // Sub-seconds never move a deadline.
        let odd = success(utc("2026-11-28T02:31:00.5Z"));
        assert_eq!(
            spec.next_expected(odd.last_success.expect("success")),
            Some(utc("2026-11-29T02:30:00Z"))
        );
    }

    #[test]
    fn a_start_dated_before_the_last_end_or_ahead_of_the_clock_is_no_run_under_way() {
        let spec = HeartbeatSpec {
            max_runtime: Duration::from_secs(600),
            ..spec(Expect::Every(HOUR), Duration::from_secs(600))
        };
        let done = success(utc("2026-11-29T02:30:01Z"));
        // A start that crossed the success in flight begins nothing.
        let (crossed, _) = done.after(Signal::Start, utc("2026-11-29T02:30:00Z"));
        assert_eq!(crossed, done);
        assert_eq!(
            verdict(&spec, &crossed, t(0), utc("2026-11-29T02:50:00Z")).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        // A start stored ahead of a clock set back hides no missed run.
        let (ahead, _) = done.after(Signal::Start, utc("2026-11-30T09:00:00Z"));
        assert_eq!(
            reason(verdict(&spec, &ahead, t(0), utc("2026-11-29T03:41:00Z"))),
            "the run expected at 03:30 did not report by 03:40 (UTC)"
        );
    }

    #[test]
    fn a_new_schedule_does_not_judge_runs_from_before_it() {
        let spec = spec(scheduled("0 * * * *", Tz::UTC), Duration::from_secs(600));
        // Daily at 03:00 until 10:20, when it became hourly.
        let state = JobState {
            expect_since: Some(utc("2026-11-29T10:20:00Z")),
            ..success(utc("2026-11-29T03:01:00Z"))
        };
        assert_eq!(
            verdict(&spec, &state, t(0), utc("2026-11-29T10:25:00Z")).map(|r| r.verdict),
            Some(Verdict::Up)
        );
        assert_eq!(
            reason(verdict(&spec, &state, t(0), utc("2026-11-29T11:11:00Z"))),
            "the 11:00 run did not report by 11:10 (UTC)"
        );
    }

    #[test]
    fn the_page_shows_the_run_owed_while_it_may_report_then_the_next() {
        let spec = spec(scheduled("30 2 * * *", Tz::UTC), HOUR);
        let last = Some(utc("2026-11-28T02:31:00Z"));
        let since = utc("2026-11-01T00:00:00Z");
        let at = |now: &str| spec.next_due(last, since, utc(now));
        assert_eq!(
            at("2026-11-29T01:00:00Z"),
            Some(utc("2026-11-29T02:30:00Z"))
        );
        assert_eq!(
            at("2026-11-29T03:00:00Z"),
            Some(utc("2026-11-29T02:30:00Z"))
        );
        assert_eq!(
            at("2026-11-29T03:31:00Z"),
            Some(utc("2026-11-30T02:30:00Z"))
        );
        let huge = spec_every(Duration::from_secs(u64::MAX / 4));
        assert_eq!(
            huge.next_due(last, since, utc("2026-11-29T01:00:00Z")),
            None
        );
    }

    fn spec_every(period: Duration) -> HeartbeatSpec {
        spec(Expect::Every(period), HOUR)
    }

    #[test]
    fn new_york_fall_back_2026_runs_the_0130_job_once() {
        // 1 November 2026: 02:00 EDT becomes 01:00 EST (06:00 UTC); 01:30 happens twice.
        assert_eq!(
            runs(
                "30 1 * * *",
                Tz::America__New_York,
                "2026-10-31T12:00:00Z",
                3
            ),
            [
                "2026-11-01 05:30", // 01:30 EDT, the first one only
                "2026-11-02 06:30", // 01:30 EST
                "2026-11-03 06:30",
            ]
        );
        // A job every minute runs through both 01:00 hours, minute after minute.
        assert_eq!(
            runs(
                "* * * * *",
                Tz::America__New_York,
                "2026-11-01T05:58:30Z",
                3
            ),
            ["2026-11-01 05:59", "2026-11-01 06:00", "2026-11-01 06:01"]
        );
        assert_eq!(
            runs(
                "* * * * *",
                Tz::America__New_York,
                "2026-11-01T06:30:00Z",
                2
            ),
            ["2026-11-01 06:31", "2026-11-01 06:32"]
        );
        // A job every hour at :00 runs at 01:00 EDT and again at 01:00 EST.
        assert_eq!(
            runs(
                "0 * * * *",
                Tz::America__New_York,
                "2026-11-01T04:30:00Z",
                3
            ),
            ["2026-11-01 05:00", "2026-11-01 06:00", "2026-11-01 07:00"]
        );
    }
}
