//! Error pages for people (API errors are JSON).

use maud::{Markup, html};

use super::{Site, layout};

pub fn not_found(site: &Site<'_>) -> Markup {
    message(site, "Page not found", "There is nothing at this address.")
}

/// A page with a heading, a sentence and a way back.
pub fn message(site: &Site<'_>, heading: &str, text: &str) -> Markup {
    layout::page(
        site,
        Some(heading),
        html! {
            section.notice {
                h1 { (heading) }
                p { (text) }
                p { a href=(site.links.home()) { "Back to the status page" } }
            }
        },
    )
}
