//! `GET /admin`: what is open, what is planned, and the latest incidents.

use maud::{Markup, html};

use super::super::Site;
use super::super::timeline::{both_times, window};
use super::page;
use crate::db::incidents::IncidentRecord;

pub struct DashboardView {
    pub csrf: String,
    pub open: Vec<IncidentRecord>,
    pub planned: Vec<IncidentRecord>,
    pub recent: Vec<IncidentRecord>,
}

fn list(site: &Site<'_>, items: &[IncidentRecord], empty: &str, edit_path: &str) -> Markup {
    html! {
        @if items.is_empty() {
            p.empty-month { (empty) }
        } @else {
            ul.history-list {
                @for i in items {
                    li {
                        a.history__name href={ "/admin/" (edit_path) "/" (i.id) } { (i.name) }
                        span class={ "tag tag--" (i.impact.as_str()) } { (i.status.label()) }
                        p.history__when {
                            @match window(site, i) {
                                Some(w) => { (w) }
                                None => { "Started " (both_times(site, i.started_at)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn render(site: &Site<'_>, view: &DashboardView) -> Markup {
    page(
        site,
        "Dashboard",
        &view.csrf,
        html! {
            section { h2 { "Open incidents" } (list(site, &view.open, "No open incidents.", "incidents")) }
            section { h2 { "Planned maintenance" } (list(site, &view.planned, "Nothing scheduled.", "maintenances")) }
            section { h2 { "Recent incidents" } (list(site, &view.recent, "No incidents yet.", "incidents")) }
        },
    )
}
