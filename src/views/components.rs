//! Small reusable pieces: status pills and uptime bars.

use chrono::{DateTime, Utc};
use maud::{Markup, Render, html};

use super::Site;
use super::model::Waiting;
use crate::domain::duration::format_span;
use crate::domain::status::{ComponentStatus, Indicator};
use crate::domain::uptime::{DayBar, DayLevel, push_percent};

/// A coloured status word.
pub fn status_pill(status: ComponentStatus) -> Markup {
    html! {
        span class={ "pill pill--" (status.as_str()) } { (status.label()) }
    }
}

/// The pill of a component that has not been checked yet: never "Operational".
pub fn waiting_pill(waiting: Waiting) -> Markup {
    html! {
        span.pill.pill--waiting title=(waiting.sentence()) { (waiting.label()) }
    }
}

/// When a background job's run is expected, after a " · ": "next expected 16:35 CET" while
/// that time is ahead, "expected 16:29 CET, overdue by 1 min 20 s" once it has gone by (the run
/// may still report within its grace). The page and /admin/jobs say it the same way.
pub fn job_expected(site: &Site<'_>, next: DateTime<Utc>, now: DateTime<Utc>) -> Markup {
    let at = html! { time datetime=(Site::iso(next)) { (site.local_moment(next, now)) } };
    match (now - next).to_std() {
        Ok(late) if late > std::time::Duration::ZERO => html! {
            " · expected " (at) ", overdue by " (format_span(late))
        },
        _ => html! { " · next expected " (at) },
    }
}

/// The CSS modifier of a page indicator.
pub fn indicator_class(indicator: Indicator) -> &'static str {
    indicator.as_str()
}

fn level_class(level: DayLevel) -> &'static str {
    match level {
        DayLevel::NoData => "none",
        DayLevel::Maintenance => "maintenance",
        DayLevel::Good => "good",
        DayLevel::Minor => "minor",
        DayLevel::Major => "major",
    }
}

/// The dates of a window of bars, formatted once per render rather than once per bar.
pub struct DayLabels(Vec<String>);

impl DayLabels {
    pub fn new(bars: &[DayBar]) -> Self {
        Self(
            bars.iter()
                .map(|b| b.day.format("%Y-%m-%d").to_string())
                .collect(),
        )
    }
}

/// What a bar says, for the tooltip and screen readers: "2026-11-28: 99.95%".
fn push_label(out: &mut String, date: &str, bar: &DayBar) {
    out.push_str(date);
    match bar.uptime {
        Some(p) if p >= 100.0 => out.push_str(": 100%"),
        Some(p) => {
            out.push_str(": ");
            push_percent(out, p);
        }
        None if bar.level == DayLevel::Maintenance => out.push_str(": maintenance"),
        None => out.push_str(": no data"),
    }
}

/// One bar, written straight into the page: this markup repeats 90 times per component, so
/// it allocates nothing for the usual 100% day. Dates and percentages need no escaping.
struct Bar<'a> {
    bar: &'a DayBar,
    date: &'a str,
}

impl Render for Bar<'_> {
    fn render_to(&self, out: &mut String) {
        out.push_str("<li class=\"");
        out.push_str(level_class(self.bar.level));
        out.push_str("\"><span>");
        push_label(out, self.date, self.bar);
        out.push_str("</span></li>");
    }
}

/// One bar per day, oldest first; narrow screens show only the last 30 (see style.css).
/// Each bar's words are in one hidden span that screen readers read and that style.css shows
/// as a tooltip on hover.
pub fn uptime_bars(name: &str, bars: &[DayBar], dates: &DayLabels) -> Markup {
    html! {
        ol.bars aria-label={ "Daily uptime of " (name) ", last " (bars.len()) " days" } {
            @for (bar, date) in bars.iter().zip(&dates.0) {
                (Bar { bar, date })
            }
        }
    }
}
