//! `GET /history`: past incidents by month, newest first, three months per page.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use maud::{Markup, html};

use super::timeline::{both_times, duration};
use super::{Site, layout};
use crate::db::incidents::IncidentRecord;

/// Months shown on one history page.
pub const MONTHS_PER_PAGE: u32 = 3;

/// One month of incidents.
pub struct Month {
    pub first_day: NaiveDate,
    pub incidents: Vec<IncidentRecord>,
}

pub struct HistoryView {
    pub page: u32,
    pub months: Vec<Month>,
    pub has_older: bool,
    pub now: DateTime<Utc>,
}

pub fn render(site: &Site<'_>, view: &HistoryView) -> Markup {
    let body = html! {
        p.crumbs { a href=(site.links.home()) { "Current status" } }
        h1 { "Incident history" }
        @for month in &view.months {
            section.month {
                h2 { (month.first_day.format("%B %Y")) }
                @if month.incidents.is_empty() {
                    p.empty-month { "No incidents reported." }
                } @else {
                    ul.history-list {
                        @for i in &month.incidents {
                            li {
                                a.history__name href=(site.links.incident(i.id)) { (i.name) }
                                span class={ "tag tag--" (i.impact.as_str()) } { (i.status.label()) }
                                p.history__when { (both_times(site, i.started_at)) " · " (duration(i, view.now)) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="History pages" {
            @if view.page > 1 { a href=(site.links.history(view.page - 1)) { "← Newer" } }
            @if view.has_older { a href=(site.links.history(view.page + 1)) { "Older →" } }
        }
    };
    let title = if view.page > 1 {
        format!("Incident history, page {}", view.page)
    } else {
        "Incident history".to_string()
    };
    layout::page(site, Some(&title), body)
}

/// The first day of the month `back` months before the one containing `today`.
pub fn month_start(today: NaiveDate, back: u32) -> NaiveDate {
    let index = today.year() * 12 + today.month0() as i32 - back as i32;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(today)
}

#[cfg(test)]
mod tests {
    use super::month_start;
    use chrono::NaiveDate;

    #[test]
    fn month_start_walks_back_across_years() {
        let d = NaiveDate::from_ymd_opt(2026, 2, 17).expect("date");
        assert_eq!(
            month_start(d, 0),
            NaiveDate::from_ymd_opt(2026, 2, 1).expect("date")
        );
        assert_eq!(
            month_start(d, 2),
            NaiveDate::from_ymd_opt(2025, 12, 1).expect("date")
        );
        assert_eq!(
            month_start(d, 14),
            NaiveDate::from_ymd_opt(2024, 12, 1).expect("date")
        );
    }
}
