//! maud views: small functions from view-models to `Markup`. Every page goes through
//! [`layout::page`]; views never query.

pub mod admin;
pub mod components;
pub mod embed;
pub mod error_page;
pub mod history_page;
pub mod incident_page;
pub mod layout;
pub mod links;
pub mod mail;
pub mod model;
pub mod status_page;
pub mod subscribe;
pub mod timeline;

use chrono::{DateTime, Utc};

use crate::config::PageConfig;
pub use links::Links;

/// What every page needs: the page settings and where links point.
pub struct Site<'a> {
    pub page: &'a PageConfig,
    pub links: &'a Links,
}

impl Site<'_> {
    /// A time in the page's time zone, e.g. "2026-11-28 14:05 CET".
    pub fn local_time(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.page.timezone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// A machine-readable time for `<time datetime>`: RFC 3339 in UTC, whole seconds.
    pub fn iso(at: DateTime<Utc>) -> String {
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }

    /// A time near `now`: "02:31 CET" on the same day, "30 Nov 02:30 CET" on another.
    pub fn local_moment(&self, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
        let zone = self.page.timezone;
        let (local, today) = (at.with_timezone(&zone), now.with_timezone(&zone));
        let format = if local.date_naive() == today.date_naive() {
            "%H:%M %Z"
        } else {
            "%-d %b %H:%M %Z"
        };
        local.format(format).to_string()
    }

    /// Only the clock part, e.g. "14:05:09 CET".
    pub fn local_clock(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.page.timezone)
            .format("%H:%M:%S %Z")
            .to_string()
    }
}
