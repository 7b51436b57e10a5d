//! `GET /`: the banner that answers "is it working?", then every component with its history.

use maud::{Markup, html};

use super::components::{
    DayLabels, indicator_class, job_expected, status_pill, uptime_bars, waiting_pill,
};
use super::model::{ComponentView, JobTimes, Snapshot, Waiting};
use super::timeline::{duration, summary_card};
use super::{Site, layout};
use crate::domain::check::Verdict;
use crate::domain::policy::public_reason;
use crate::domain::uptime::{day_bars, format_percent, overall_uptime};

/// Narrow screens show this many of the most recent days (see style.css).
const NARROW_DAYS: u32 = 30;
/// Resolved incidents younger than this are listed under the components.
const RECENT_DAYS: i64 = 14;

pub fn render(site: &Site<'_>, snapshot: &Snapshot) -> Markup {
    let indicator = snapshot.indicator();
    // Before any check, "All Systems Operational" would be a guess.
    let banner_class = if snapshot.all_waiting() {
        "waiting"
    } else {
        indicator_class(indicator)
    };
    let banner_title = snapshot.description();
    let today = snapshot.today;
    let dates = DayLabels::new(&day_bars(today, snapshot.history_days, &[]));
    let body = html! {
        section class={ "banner banner--" (banner_class) } role="status" {
            span.banner__icon aria-hidden="true" {}
            div {
                h1.banner__title { (banner_title) }
                p.banner__time {
                    "Updated "
                    time datetime=(Site::iso(snapshot.generated_at)) { (site.local_time(snapshot.generated_at)) }
                }
            }
        }
        @if let Some(since) = snapshot.checker_offline_since {
            section.notice.notice--offline role="alert" {
                h2 { "The checker is offline" }
                p {
                    "Since " (site.local_time(since))
                    " this status server cannot reach the internet itself, so failed checks are not counted. "
                    "The statuses below are from before that time."
                }
            }
        }
        (incidents_section(site, snapshot))
        section.components aria-labelledby="components-heading" {
            h2 #components-heading { "Components" }
            // The bars are days of this zone, and every time on the page is in it.
            p.components__zone { "Days and times in " (site.page.timezone.name()) " time." }
            @if snapshot.components.is_empty() {
                p.empty { "No monitors are configured yet." }
            }
            @for (group, members) in snapshot.groups() {
                div.card {
                    @if let Some(name) = group {
                        h3.card__title { (name) }
                    }
                    ul.component-list {
                        @for c in members { (component(site, snapshot, c, &dates)) }
                    }
                }
            }
        }
        (recent_section(site, snapshot))
    };
    layout::page(site, None, body)
}

/// Active incidents, maintenance in progress and upcoming maintenance, above the components.
fn incidents_section(site: &Site<'_>, snapshot: &Snapshot) -> Markup {
    let active: Vec<_> = snapshot.active_maintenances().collect();
    let upcoming: Vec<_> = snapshot.upcoming_maintenances().collect();
    html! {
        @if !snapshot.open_incidents.is_empty() {
            section aria-labelledby="incidents-heading" {
                h2 #incidents-heading { "Active incidents" }
                @for i in &snapshot.open_incidents { (summary_card(site, i)) }
            }
        }
        @if !active.is_empty() {
            section aria-labelledby="maintenance-heading" {
                h2 #maintenance-heading { "Maintenance in progress" }
                @for m in &active { (summary_card(site, m)) }
            }
        }
        @if !upcoming.is_empty() {
            section aria-labelledby="upcoming-heading" {
                h2 #upcoming-heading { "Scheduled maintenance" }
                @for m in &upcoming { (summary_card(site, m)) }
            }
        }
    }
}

/// Incidents of the last [`RECENT_DAYS`] days that are over, and the way to the full history.
fn recent_section(site: &Site<'_>, snapshot: &Snapshot) -> Markup {
    let since = snapshot.generated_at - chrono::Duration::days(RECENT_DAYS);
    let past: Vec<_> = snapshot
        .recent_incidents
        .iter()
        .filter(|i| i.resolved_at.is_some() && i.started_at >= since)
        .collect();
    html! {
        section.recent aria-labelledby="recent-heading" {
            h2 #recent-heading { "Past incidents" }
            @if past.is_empty() {
                p.empty-month { "No incidents in the last " (RECENT_DAYS) " days." }
            } @else {
                ul.history-list {
                    @for i in past {
                        li {
                            a.history__name href=(site.links.incident(i.id)) { (i.name) }
                            p.history__when { (site.local_time(i.started_at)) " · " (duration(i, snapshot.generated_at)) }
                        }
                    }
                }
            }
            p { a href=(site.links.history(1)) { "Incident history" } }
        }
    }
}

fn component(site: &Site<'_>, snapshot: &Snapshot, c: &ComponentView, dates: &DayLabels) -> Markup {
    let m = &c.monitor;
    let today = snapshot.today;
    let bars = day_bars(today, snapshot.history_days, &c.days);
    let uptime = overall_uptime(&c.days);
    let days = snapshot.history_days;
    html! {
        li.component #{ "component-" (m.key) } {
            div.component__head {
                h4.component__name { (m.name) }
                @match c.waiting {
                    Some(waiting) => (waiting_pill(waiting)),
                    None => (status_pill(c.status)),
                }
            }
            p.component__meta {
                @if let Some(job) = &c.job {
                    (job_meta(site, snapshot, c, job))
                } @else {
                    (check_meta(site, c))
                }
            }
            (uptime_bars(&m.name, &bars, dates))
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

/// "Checked 14:05:09 CET · 84 ms · reason" of a probed monitor.
fn check_meta(site: &Site<'_>, c: &ComponentView) -> Markup {
    let m = &c.monitor;
    html! {
        @match (&m.last, c.waiting) {
            (None, Some(waiting)) => { (waiting.sentence()) }
            (None, None) => { "Not checked yet" }
            (Some(last), _) => {
                "Checked "
                time datetime=(Site::iso(last.at)) { (site.local_clock(last.at)) }
                @if last.verdict != Verdict::Down {
                    " · " (last.response_ms) " ms"
                }
                @if let Some(reason) = &last.reason {
                    span.component__reason { " · " (public_reason(reason, &m.target)) }
                }
            }
        }
    }
}

/// "Last run 02:31 CET · next expected 30 Nov 02:30 CET · reason" of a background job (or
/// "expected 02:30 CET, overdue by 4 min" once that time has gone by).
fn job_meta(site: &Site<'_>, snapshot: &Snapshot, c: &ComponentView, job: &JobTimes) -> Markup {
    let now = snapshot.generated_at;
    html! {
        @match job.last_success {
            Some(at) => {
                "Last run "
                time datetime=(Site::iso(at)) { (site.local_moment(at, now)) }
            }
            None if c.monitor.last.is_some() => { "No successful run yet" }
            None => { (Waiting::FirstPing.sentence()) }
        }
        @if let Some(next) = job.next_expected {
            (job_expected(site, next, now))
        }
        @if let Some(reason) = c.monitor.last.as_ref().and_then(|l| l.reason.as_ref()) {
            span.component__reason { " · " (public_reason(reason, &c.monitor.target)) }
        }
    }
}
