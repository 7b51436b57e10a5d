//! `/embed`: a banner for an `<iframe>` on the owner's own site — the shop page says "we know,
//! we're on it". No script; every link opens the status page in the top window.

use maud::{DOCTYPE, Markup, html};

use super::Site;
use super::components::indicator_class;
use super::model::Snapshot;
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
                link rel="stylesheet" href={ (site.links.asset("style.css")) "?v=" (crate::assets::version()) };
            }
            body.embed {
                @if let Some(r) = record {
                    a class={ "banner banner--" (class) } href={ (base) "/incidents/" (r.id) } target="_top" {
                        span.banner__icon aria-hidden="true" {}
                        span {
                            strong.banner__title { (r.name) }
                            span.banner__time {
                                (r.status.label())
                                @if more > 0 { " · " (more) " more" }
                                " · " (site.page.title)
                            }
                        }
                    }
                } @else if operational {
                    a class={ "banner banner--" (class) } href={ (base) "/" } target="_top" {
                        span.banner__icon aria-hidden="true" {}
                        span {
                            strong.banner__title { (indicator.description()) }
                            span.banner__time { (site.page.title) }
                        }
                    }
                }
            }
        }
    }
}
