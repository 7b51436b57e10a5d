//! `/embed`: a banner for an `<iframe>` on the owner's own site — the shop page says "we know,
//! we're on it". No script; every link opens the status page in the top window.

use maud::{DOCTYPE, Markup, html};

use super::components::indicator_class;
use super::model::Snapshot;
use super::{Site, layout};
use crate::db::incidents::IncidentRecord;

/// The banner. With nothing going on it is empty, or with `operational` a discreet "all
/// systems operational". `base` is the page's absolute URL (the frame lives on another site).
pub fn render(site: &Site<'_>, snapshot: &Snapshot, base: &str, operational: bool) -> Markup {
    let indicator = snapshot.indicator();
    let incident = snapshot.open_incidents.first();
    let maintenance = snapshot.active_maintenances().next();
    let (class, record): (&str, Option<&IncidentRecord>) = match (incident, maintenance) {
        (Some(i), _) => (indicator_class(indicator), Some(i)),
        (None, Some(m)) => ("maintenance", Some(m)),
        (None, None) if snapshot.all_waiting() => ("waiting", None),
        (None, None) => (indicator_class(indicator), None),
    };
    let more = snapshot.open_incidents.len().saturating_sub(1);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (site.page.title) }
                (layout::stylesheet(site))
            }
            body.embed {
                @if let Some(r) = record {
                    (banner(class, &format!("{base}/incidents/{}", r.id), &r.name, html! {
                        (r.status.label())
                        @if more > 0 { " · " (more) " more" }
                        " · " (site.page.title)
                    }))
                } @else if operational {
                    (banner(class, &format!("{base}/"), snapshot.description(), html! {
                        (site.page.title)
                    }))
                }
            }
        }
    }
}

/// One line of banner, linking to `href` in the top window.
fn banner(class: &str, href: &str, title: &str, line: Markup) -> Markup {
    html! {
        a class={ "banner banner--" (class) } href=(href) target="_top" {
            span.banner__icon aria-hidden="true" {}
            span {
                strong.banner__title { (title) }
                span.banner__time { (line) }
            }
        }
    }
}
