//! `GET /incidents/{id}`: one incident with its whole timeline, newest first.

use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::timeline::{both_times, duration, update_entry, window};
use super::{Site, layout};
use crate::db::incidents::IncidentRecord;
use crate::domain::incident::Kind;

pub fn render(site: &Site<'_>, i: &IncidentRecord, now: DateTime<Utc>) -> Markup {
    let kind = match i.kind {
        Kind::Incident => "Incident",
        Kind::Maintenance => "Maintenance",
    };
    let body = html! {
        p.crumbs { a href=(site.links.home()) { "Current status" } " / " a href=(site.links.history(1)) { "History" } }
        article.incident-page {
            h1 { (i.name) }
            dl.facts {
                dt { "Status" } dd { (i.status.label()) }
                @if i.kind == Kind::Incident {
                    dt { "Impact" } dd { (i.impact.as_str()) }
                    dt { "Started" } dd { (both_times(site, i.started_at)) }
                    @if let Some(at) = i.resolved_at { dt { "Resolved" } dd { (both_times(site, at)) } }
                    dt { "Duration" } dd { (duration(i, now)) }
                } @else {
                    @if let Some(w) = window(site, i) { dt { "Window" } dd { (w) } }
                }
                @if !i.components.is_empty() {
                    dt { "Affects" }
                    dd {
                        @for (n, c) in i.components.iter().enumerate() {
                            @if n > 0 { ", " }
                            (c.name)
                        }
                    }
                }
            }
            h2 { (kind) " updates" }
            ol.timeline { @for u in &i.updates { (update_entry(site, u)) } }
        }
    };
    layout::page(site, Some(&i.name), body)
}
