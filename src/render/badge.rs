//! Shields-style status badges: a grey label and a status in its colour.

use maud::html;

use crate::domain::status::ComponentStatus;

pub const SVG: &str = "image/svg+xml";
/// Custom labels longer than this are cut (a badge is not a banner).
pub const MAX_LABEL: usize = 48;

/// The word on the right of the badge; `None` (never checked) is "unknown", as shields.io
/// writes it.
pub fn message(status: Option<ComponentStatus>) -> &'static str {
    match status {
        None => "unknown",
        Some(ComponentStatus::Operational) => "operational",
        Some(ComponentStatus::DegradedPerformance) => "degraded",
        Some(ComponentStatus::PartialOutage) => "partial outage",
        Some(ComponentStatus::MajorOutage) => "major outage",
        Some(ComponentStatus::UnderMaintenance) => "maintenance",
    }
}

/// Shields.io's colours for the same meanings (its light grey for "unknown").
pub fn colour(status: Option<ComponentStatus>) -> &'static str {
    match status {
        None => "#9f9f9f",
        Some(ComponentStatus::Operational) => "#44cc11",
        Some(ComponentStatus::DegradedPerformance) => "#dfb317",
        Some(ComponentStatus::PartialOutage) => "#fe7d37",
        Some(ComponentStatus::MajorOutage) => "#e05d44",
        Some(ComponentStatus::UnderMaintenance) => "#007ec6",
    }
}

/// Approximate width of text in 11 px Verdana, the badge font.
fn text_width(text: &str) -> u32 {
    text.chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 4,
            'm' | 'w' | 'M' | 'W' => 10,
            c if c.is_uppercase() => 8,
            _ => 7,
        })
        .sum()
}

/// The badge for `label` showing `status` (`None`: never checked, "unknown").
pub fn svg(label: &str, status: Option<ComponentStatus>) -> String {
    let label: String = label.chars().take(MAX_LABEL).collect();
    let message = message(status);
    let (lw, mw) = (text_width(&label) + 10, text_width(message) + 10);
    let width = lw + mw;
    let title = format!("{label}: {message}");
    let (lx, mx) = (lw * 5, lw * 10 + mw * 5);
    let markup = html! {
        svg xmlns="http://www.w3.org/2000/svg" width=(width) height="20" role="img" aria-label=(title) {
            title { (title) }
            linearGradient id="s" x2="0" y2="100%" {
                stop offset="0" stop-color="#bbb" stop-opacity=".1" {}
                stop offset="1" stop-opacity=".1" {}
            }
            clipPath id="r" { rect width=(width) height="20" rx="3" fill="#fff" {} }
            g clip-path="url(#r)" {
                rect width=(lw) height="20" fill="#555" {}
                rect x=(lw) width=(mw) height="20" fill=(colour(status)) {}
                rect width=(width) height="20" fill="url(#s)" {}
            }
            g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110" transform="scale(.1)" {
                text x=(lx) y="150" fill="#010101" fill-opacity=".3" textLength=((lw - 10) * 10) { (label) }
                text x=(lx) y="140" textLength=((lw - 10) * 10) { (label) }
                text x=(mx) y="150" fill="#010101" fill-opacity=".3" textLength=((mw - 10) * 10) { (message) }
                text x=(mx) y="140" textLength=((mw - 10) * 10) { (message) }
            }
        }
    };
    markup.into_string()
}
