//! The one layout every HTML page goes through.

use maud::{DOCTYPE, Markup, html};

use super::Site;

/// The site's stylesheet, its URL versioned by its content (cached for a year).
pub fn stylesheet(site: &Site<'_>) -> Markup {
    html! {
        link rel="stylesheet" href={ (site.links.asset("style.css")) "?v=" (crate::assets::version()) };
    }
}

/// A full HTML document. `heading` is the document title before the site title.
pub fn page(site: &Site<'_>, heading: Option<&str>, body: Markup) -> Markup {
    let title = match heading {
        Some(h) => format!("{h} · {}", site.page.title),
        None => site.page.title.clone(),
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) }
                @if !site.page.description.is_empty() {
                    meta name="description" content=(site.page.description);
                }
                link rel="icon" href=(site.links.asset("favicon.svg")) type="image/svg+xml";
                link rel="alternate" type="application/rss+xml" title={ (site.page.title) " (RSS)" } href=(site.links.file("feed.rss"));
                link rel="alternate" type="application/atom+xml" title={ (site.page.title) " (Atom)" } href=(site.links.file("feed.atom"));
                link rel="alternate" type="application/feed+json" title={ (site.page.title) " (JSON Feed)" } href=(site.links.file("feed.json"));
                (stylesheet(site))
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    div.wrap {
                        a.brand href=(site.links.home()) { (site.page.title) }
                        @if !site.page.description.is_empty() {
                            p.tagline { (site.page.description) }
                        }
                    }
                }
                main.wrap #main { (body) }
                footer.site {
                    div.wrap {
                        p.subscribe {
                            "Subscribe to updates: "
                            a href=(site.links.file("feed.rss")) { "RSS" }
                            " · "
                            a href=(site.links.file("feed.atom")) { "Atom" }
                            " · "
                            a href=(site.links.file("feed.json")) { "JSON Feed" }
                            " · "
                            a href=(site.links.file("api/v2/summary.json")) { "JSON API" }
                            " · "
                            a href=(site.links.calendar()) type="text/calendar" { "Maintenance calendar" }
                            @if let Some(url) = &site.page.subscribe_url {
                                " · "
                                a href=(url) { "Get updates by e-mail" }
                            }
                        }
                        p { "Powered by signalfire" }
                    }
                }
            }
        }
    }
}
