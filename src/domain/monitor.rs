//! What a monitor is: a stable id, a name, a schedule and what to probe.

use std::fmt;
use std::time::Duration;

/// A monitor's stable key: `[a-z0-9-]+`, used in URLs, the API and the database.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorId(String);

/// The longest id we accept; ids appear in URLs and file names.
const MAX_ID_LEN: usize = 64;

impl MonitorId {
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() || text.len() > MAX_ID_LEN {
            return Err(format!(
                "id \"{text}\" must be 1 to {MAX_ID_LEN} characters of a-z, 0-9 and -"
            ));
        }
        if let Some(bad) = text
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
        {
            return Err(format!(
                "id \"{text}\" contains '{bad}'; use only a-z, 0-9 and - (e.g. \"proof-galleries\")"
            ));
        }
        Ok(Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MonitorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// When a monitor runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every fixed duration, from the timer queue.
    Every(Duration),
    /// A 6-field cron expression (seconds first), in a time zone (the monitor's `timezone`,
    /// default the page's), as heartbeat schedules are.
    Cron {
        line: String,
        timezone: chrono_tz::Tz,
    },
}

/// How many results in a row change the verdict (they stop flapping from reaching the page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Consecutive failed checks before the monitor is down.
    pub failures_before_down: u32,
    /// Consecutive good checks before a down monitor is up again.
    pub successes_before_up: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            failures_before_down: 3,
            successes_before_up: 2,
        }
    }
}

/// What the database and the page know of a configured monitor, whatever its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorInfo {
    pub id: MonitorId,
    pub name: String,
    pub group: Option<String>,
    /// The kind's name (`http`, `tcp`, `dns`, `heartbeat`, …).
    pub kind: &'static str,
    /// What is checked, for people (no credentials).
    pub target: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lowercase_digits_and_dashes() {
        assert!(MonitorId::parse("proof-galleries-2").is_ok());
        assert!(MonitorId::parse("Blog").unwrap_err().contains("'B'"));
        assert!(MonitorId::parse("a b").is_err());
        assert!(MonitorId::parse("").is_err());
        assert!(MonitorId::parse(&"a".repeat(65)).is_err());
    }
}
