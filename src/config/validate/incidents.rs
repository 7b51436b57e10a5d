//! `[incidents]` → [`IncidentsConfig`]: flap damping, every key optional with its default, a
//! bad value reported at its position with the fix.

use std::time::Duration;

use super::super::IncidentsConfig;
use super::super::raw::RawIncidents;
use super::super::{DEFAULT_FLAP_CHANGES, DEFAULT_FLAP_WINDOW, DEFAULT_REOPEN_WITHIN};
use crate::keys::{Collector, number, optional_duration};

/// Longer than a day, "the same trouble" no longer holds.
const LONGEST: Duration = Duration::from_secs(86_400);

pub fn parse(c: &mut Collector<'_>, raw: &RawIncidents) -> IncidentsConfig {
    let reopen_within =
        optional_duration(c, &raw.reopen_within, "reopen_within").unwrap_or(DEFAULT_REOPEN_WITHIN);
    if reopen_within > LONGEST {
        c.at(
            raw.reopen_within.as_ref().map(toml::Spanned::span),
            "reopen_within must be at most 1d; write e.g. \"30m\", or \"0s\" to never reopen",
        );
    }
    let flap_window =
        optional_duration(c, &raw.flap_window, "flap_window").unwrap_or(DEFAULT_FLAP_WINDOW);
    if flap_window.is_zero() || flap_window > LONGEST {
        c.at(
            raw.flap_window.as_ref().map(toml::Spanned::span),
            "flap_window must be longer than 0s and at most 1d; write e.g. \"10m\"",
        );
    }
    let flap_changes = number(
        c,
        &raw.flap_changes,
        "flap_changes",
        i64::from(DEFAULT_FLAP_CHANGES),
        2..=1_000,
    );
    IncidentsConfig {
        reopen_within: reopen_within.min(LONGEST),
        flap_window: flap_window.clamp(Duration::from_secs(1), LONGEST),
        flap_changes: u32::try_from(flap_changes).unwrap_or(DEFAULT_FLAP_CHANGES),
    }
}
