//! `GET /`: the banner that answers "is it working?", then every component with its history.

use maud::{Markup, html};

use super::components::{indicator_class, status_pill, uptime_bars};
use super::{Site, layout};
use crate::domain::check::Verdict;
use crate::domain::uptime::{day_bars, format_percent, overall_uptime};
use crate::render::snapshot::{ComponentView, Snapshot};

/// Narrow screens show this many of the most recent days (see style.css).
const NARROW_DAYS: u32 = 30;

pub fn render(site: &Site<'_>, snapshot: &Snapshot) -> Markup {
    let indicator = snapshot.indicator();
    let body = html! {
        section class={ "banner banner--" (indicator_class(indicator)) } role="status" {
            span.banner__icon aria-hidden="true" {}
            div {
                h1.banner__title { (indicator.description()) }
                p.banner__time {
                    "Updated "
                    time datetime=(Site::iso(snapshot.generated_at)) { (site.local_time(snapshot.generated_at)) }
                }
            }
        }
        section.components aria-labelledby="components-heading" {
            h2 #components-heading { "Components" }
            @if snapshot.components.is_empty() {
                p.empty { "No monitors are configured yet." }
            }
            @for (group, members) in snapshot.groups() {
                div.card {
                    @if let Some(name) = group {
                        h3.card__title { (name) }
                    }
                    ul.component-list {
                        @for c in members { (component(site, snapshot, c)) }
                    }
                }
            }
        }
    };
    layout::page(site, None, body)
}

fn component(site: &Site<'_>, snapshot: &Snapshot, c: &ComponentView) -> Markup {
    let m = &c.monitor;
    let today = snapshot.generated_at.date_naive();
    let bars = day_bars(today, snapshot.history_days, &c.days);
    let uptime = overall_uptime(&c.days);
    let days = snapshot.history_days;
    html! {
        li.component #{ "component-" (m.key) } {
            div.component__head {
                h4.component__name { (m.name) }
                (status_pill(c.status))
            }
            p.component__meta {
                @match &m.last {
                    None => { "Awaiting the first check" }
                    Some(last) => {
                        "Checked "
                        time datetime=(Site::iso(last.at)) { (site.local_clock(last.at)) }
                        @if last.verdict != Verdict::Down {
                            " · " (last.response_ms) " ms"
                        }
                        @if let Some(reason) = &last.reason {
                            span.component__reason { " · " (reason) }
                        }
                    }
                }
            }
            (uptime_bars(&m.name, &bars))
            div.bars__legend aria-hidden="true" {
                span.legend--long { (days) " days ago" }
                @if days > NARROW_DAYS { span.legend--short { (NARROW_DAYS) " days ago" } }
                span.legend__uptime {
                    @match uptime {
                        Some(p) => { (format_percent(p)) " uptime" }
                        None => { "No data yet" }
                    }
                }
                span { "Today" }
            }
        }
    }
}
