//! Incidents and their updates: the summary card, one timeline entry, durations.

use chrono::{DateTime, Utc};
use maud::{Markup, PreEscaped, html};

use super::Site;
use super::components::status_pill;
use crate::db::incidents::{IncidentRecord, UpdateRecord};
use crate::domain::duration::format_span;
use crate::domain::incident::Kind;
use crate::domain::window::window_words;

/// "12 min", or "ongoing" while the incident is open.
pub fn duration(i: &IncidentRecord, now: DateTime<Utc>) -> String {
    let end = i.resolved_at.unwrap_or(now);
    let span = format_span((end - i.started_at).to_std().unwrap_or_default());
    if i.resolved_at.is_some() {
        span
    } else {
        format!("ongoing, {span} so far")
    }
}

/// A time in the page's zone with UTC beside it, e.g. "2026-11-28 14:05 CET (13:05 UTC)".
pub fn both_times(site: &Site<'_>, at: DateTime<Utc>) -> Markup {
    let local = site.local_time(at);
    let utc = at.format("%H:%M UTC").to_string();
    html! {
        time datetime=(Site::iso(at)) {
            (local)
            @if !local.ends_with("UTC") { " (" (utc) ")" }
        }
    }
}

/// The words of a maintenance window: "Sat 2026-11-28 22:00 – 23:30 CET (21:00 – 22:30 UTC)".
pub fn window(site: &Site<'_>, i: &IncidentRecord) -> Option<String> {
    let (from, until) = (i.scheduled_for?, i.scheduled_until?);
    Some(window_words(from, until, site.page.timezone))
}

fn impact_class(i: &IncidentRecord) -> String {
    match i.kind {
        Kind::Maintenance => "incident incident--maintenance".to_string(),
        Kind::Incident => format!("incident incident--{}", i.impact.as_str()),
    }
}

/// A card for the top of the page: name, latest update, affected components.
pub fn summary_card(site: &Site<'_>, i: &IncidentRecord) -> Markup {
    let latest = i.updates.first();
    html! {
        article class=(impact_class(i)) {
            h3.incident__name { a href=(site.links.incident(i.id)) { (i.name) } }
            @if let Some(w) = window(site, i) {
                p.incident__window {
                    (w) " · "
                    a href=(site.links.calendar()) type="text/calendar" { "Add to calendar" }
                }
            }
            @if let Some(u) = latest {
                p.incident__status {
                    strong { (u.status.label()) }
                    " · " (both_times(site, u.display_at))
                }
                @if !u.body_html.trim().is_empty() {
                    div.note { (PreEscaped(&u.body_html)) }
                }
            }
            @if !i.components.is_empty() {
                p.incident__affects {
                    "Affects: "
                    @for (n, c) in i.components.iter().enumerate() {
                        @if n > 0 { ", " }
                        (c.name)
                    }
                }
            }
        }
    }
}

/// One update in a timeline, with an anchor for feed links.
pub fn update_entry(site: &Site<'_>, u: &UpdateRecord) -> Markup {
    html! {
        li.update id={ "update-" (u.id) } {
            h3.update__status { (u.status.label()) }
            p.update__time { (both_times(site, u.display_at)) }
            @if !u.body_html.trim().is_empty() {
                div.note { (PreEscaped(&u.body_html)) }
            }
            @if !u.changes.is_empty() {
                ul.update__changes {
                    @for c in &u.changes {
                        li {
                            (c.name) ": "
                            @if let Some(old) = c.old {
                                (status_pill(old)) " → "
                            }
                            (status_pill(c.new))
                        }
                    }
                }
            }
        }
    }
}
