//! `[reminders]` → [`Settings`]: each duration optional (left out, that reminder is off), and
//! a zero, negative or unreadable one reported at its value with the fix.

use std::time::Duration;

use super::super::raw::{RawReminders, Text};
use crate::domain::reminder::Settings;
use crate::keys::{Collector, optional_duration};

pub fn parse(c: &mut Collector<'_>, raw: &RawReminders) -> Settings {
    Settings {
        incident_without_update: positive(
            c,
            &raw.incident_without_update,
            "incident_without_update",
            "1h",
        ),
        recovered_but_open: positive(c, &raw.recovered_but_open, "recovered_but_open", "15m"),
    }
}

/// A duration longer than zero; `example` shows what to write.
fn positive(c: &mut Collector<'_>, value: &Text, key: &str, example: &str) -> Option<Duration> {
    let span = value.as_ref().map(toml::Spanned::span);
    match optional_duration(c, value, key)? {
        d if d.is_zero() => {
            c.at(
                span,
                format!(
                    "{key} must be longer than 0s; write e.g. \"{example}\", or leave the key out to turn this reminder off"
                ),
            );
            None
        }
        d => Some(d),
    }
}
