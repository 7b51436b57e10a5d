//! Strings from the API and the admin forms → typed requests; every error names its field.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Utc};

use super::IncidentError;
use crate::domain::incident::{Kind, Status};
use crate::domain::status::{ComponentStatus, Impact};

/// Longest incident name, and longest note, we accept.
const MAX_NAME: usize = 200;
const MAX_BODY: usize = 20_000;

/// Times the owner gives (windows, backdated updates) fall within these years.
const EARLIEST_YEAR: i32 = 2000;
const LATEST_YEAR: i32 = 2200;

fn bad(message: String) -> IncidentError {
    IncidentError::BadRequest(message)
}

pub fn name(value: Option<&str>) -> Result<String, IncidentError> {
    let name = crate::markdown::strip_controls(value.unwrap_or(""));
    let name = name.trim();
    if name.is_empty() {
        return Err(bad("name: is required and must not be empty".into()));
    }
    if name.chars().count() > MAX_NAME {
        return Err(bad(format!("name: must be at most {MAX_NAME} characters")));
    }
    Ok(name.to_string())
}

pub fn body(value: Option<&str>) -> Result<String, IncidentError> {
    let body = crate::markdown::strip_controls(value.unwrap_or(""));
    if body.chars().count() > MAX_BODY {
        return Err(bad(format!("body: must be at most {MAX_BODY} characters")));
    }
    Ok(body.to_string())
}

/// An update status word for an incident or maintenance.
pub fn status(value: &str, kind: Kind) -> Result<Status, IncidentError> {
    Status::parse(value).ok_or_else(|| {
        let words: Vec<&str> = Status::words_for(kind).iter().map(|s| s.as_str()).collect();
        bad(format!(
            "status: \"{value}\" is not a {} status; use one of {}",
            kind.as_str(),
            words.join(", ")
        ))
    })
}

pub fn impact(value: &str) -> Result<Impact, IncidentError> {
    Impact::parse(value).ok_or_else(|| {
        bad(format!(
            "impact: \"{value}\" is not an impact; use none, minor, major or critical"
        ))
    })
}

/// The impact an incident has when none is given: from the worst component status it sets.
pub fn default_impact(components: &[(i64, ComponentStatus)]) -> Impact {
    let worst = components
        .iter()
        .map(|(_, s)| *s)
        .fold(ComponentStatus::Operational, ComponentStatus::worst);
    match worst {
        ComponentStatus::MajorOutage | ComponentStatus::PartialOutage => Impact::Major,
        ComponentStatus::DegradedPerformance => Impact::Minor,
        ComponentStatus::Operational | ComponentStatus::UnderMaintenance => Impact::None,
    }
}

/// The configured components: monitor ids and their database rows, in page order.
#[derive(Debug, Clone, Default)]
pub struct ComponentIndex {
    rows: HashMap<String, i64>,
    keys: Vec<String>,
}

impl ComponentIndex {
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, i64)>) -> Self {
        let mut index = Self::default();
        for (key, row) in entries {
            index.rows.insert(key.to_string(), row);
            index.keys.push(key.to_string());
        }
        index
    }

    pub fn row(&self, key: &str) -> Option<i64> {
        self.rows.get(key).copied()
    }
}

/// A configured monitor id → its row.
pub fn component(known: &ComponentIndex, field: &str, key: &str) -> Result<i64, IncidentError> {
    known.row(key).ok_or_else(|| {
        bad(format!(
            "{field}: \"{key}\" is not a component; known components: {}",
            known.keys.join(", ")
        ))
    })
}

/// `{"monitor_id": "component status"}` pairs → rows and statuses.
pub fn component_statuses<'a>(
    known: &ComponentIndex,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<(i64, ComponentStatus)>, IncidentError> {
    pairs
        .into_iter()
        .map(|(key, value)| {
            let field = format!("components.{key}");
            let row = component(known, &field, key)?;
            let status = ComponentStatus::parse(value).ok_or_else(|| {
                let words: Vec<&str> = ComponentStatus::ALL.iter().map(|s| s.as_str()).collect();
                bad(format!(
                    "{field}: \"{value}\" is not a component status; use one of {}",
                    words.join(", ")
                ))
            })?;
            Ok((row, status))
        })
        .collect()
}

/// A form's "post quietly" checkbox: ticked (any value) tells nobody.
pub fn notify(quiet: Option<&str>) -> bool {
    quiet.is_none()
}

/// An RFC 3339 time.
pub fn time(field: &str, value: Option<&str>) -> Result<DateTime<Utc>, IncidentError> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| bad(format!("{field}: is required")))?;
    let time = DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            bad(format!(
                "{field}: \"{value}\" is not an RFC 3339 time like 2026-12-01T22:00:00Z"
            ))
        })?;
    // chrono keeps :60 as a second that compares apart from the next one but is stored as
    // the same millisecond: a window ending there would be empty.
    if time.timestamp_subsec_nanos() >= 1_000_000_000 {
        return Err(bad(format!(
            "{field}: \"{value}\" is a leap second; write :59 or the next minute"
        )));
    }
    if !(EARLIEST_YEAR..=LATEST_YEAR).contains(&time.year()) {
        return Err(bad(format!(
            "{field}: \"{value}\" is out of range; times from {EARLIEST_YEAR} to {LATEST_YEAR} are accepted"
        )));
    }
    Ok(time)
}
