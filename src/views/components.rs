//! Small reusable pieces: status pills and uptime bars.

use maud::{Markup, html};

use crate::domain::status::{ComponentStatus, Indicator};
use crate::domain::uptime::{DayBar, DayLevel, format_percent};

/// A coloured status word.
pub fn status_pill(status: ComponentStatus) -> Markup {
    html! {
        span class={ "pill pill--" (status.as_str()) } { (status.label()) }
    }
}

/// The CSS modifier of a page indicator.
pub fn indicator_class(indicator: Indicator) -> &'static str {
    indicator.as_str()
}

fn level_class(level: DayLevel) -> &'static str {
    match level {
        DayLevel::NoData => "bar bar--none",
        DayLevel::Good => "bar bar--good",
        DayLevel::Minor => "bar bar--minor",
        DayLevel::Major => "bar bar--major",
    }
}

/// What a bar says, for the tooltip and screen readers: "2026-11-28: 99.95% uptime".
pub fn bar_label(bar: &DayBar) -> String {
    let date = bar.day.format("%Y-%m-%d");
    match bar.uptime {
        Some(p) => format!("{date}: {} uptime", format_percent(p)),
        None => format!("{date}: no data"),
    }
}

/// One bar per day, oldest first; narrow screens show only the last 30 (see style.css).
/// Each bar's words are in one hidden span that screen readers read and that style.css shows
/// as a tooltip on hover: written once, as this markup repeats 90 times per component.
pub fn uptime_bars(name: &str, bars: &[DayBar]) -> Markup {
    html! {
        ol.bars aria-label={ "Daily uptime of " (name) ", last " (bars.len()) " days" } {
            @for bar in bars {
                li class=(level_class(bar.level)) { span.sr { (bar_label(bar)) } }
            }
        }
    }
}
