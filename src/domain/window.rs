//! A maintenance window in words, the same on the page, in feeds, mails and webhooks: in the
//! page's time zone, with UTC beside it (SPEC §11).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// "Thu 2026-12-10 11:00 – 12:30 CET (10:00 – 11:30 UTC)". An end on another day has its
/// date ("Sat 2026-11-28 22:00 – Sun 2026-11-29 02:00 CET"); a window across a change of
/// offset names the zone at both ends ("Sun 2026-03-29 01:00 CET – 04:00 CEST"); a page in
/// UTC says it once.
pub fn window_words(from: DateTime<Utc>, until: DateTime<Utc>, zone: Tz) -> String {
    let (start, end) = (from.with_timezone(&zone), until.with_timezone(&zone));
    let same_day = start.date_naive() == end.date_naive();
    let start_zone = if start.format("%Z").to_string() == end.format("%Z").to_string() {
        String::new()
    } else {
        start.format(" %Z").to_string()
    };
    let end_format = if same_day {
        "%H:%M %Z"
    } else {
        "%a %Y-%m-%d %H:%M %Z"
    };
    let local = format!(
        "{}{start_zone} – {}",
        start.format("%a %Y-%m-%d %H:%M"),
        end.format(end_format)
    );
    if start.format("%Z").to_string() == "UTC" && start_zone.is_empty() {
        return local;
    }
    let utc = if from.date_naive() == until.date_naive() {
        format!("{} – {}", from.format("%H:%M"), until.format("%H:%M UTC"))
    } else {
        format!(
            "{} – {}",
            from.format("%Y-%m-%d %H:%M"),
            until.format("%Y-%m-%d %H:%M UTC")
        )
    };
    format!("{local} ({utc})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_window_is_said_in_the_page_zone_and_in_utc() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            window_words(
                at("2026-12-10T10:00:00Z"),
                at("2026-12-10T11:30:00Z"),
                berlin
            ),
            "Thu 2026-12-10 11:00 – 12:30 CET (10:00 – 11:30 UTC)"
        );
        assert_eq!(
            window_words(
                at("2026-11-28T21:00:00Z"),
                at("2026-11-29T01:00:00Z"),
                berlin
            ),
            "Sat 2026-11-28 22:00 – Sun 2026-11-29 02:00 CET (2026-11-28 21:00 – 2026-11-29 01:00 UTC)"
        );
        assert_eq!(
            window_words(
                at("2026-03-29T00:00:00Z"),
                at("2026-03-29T02:00:00Z"),
                berlin
            ),
            "Sun 2026-03-29 01:00 CET – 04:00 CEST (00:00 – 02:00 UTC)"
        );
        assert_eq!(
            window_words(
                at("2026-12-10T10:00:00Z"),
                at("2026-12-10T11:30:00Z"),
                chrono_tz::UTC
            ),
            "Thu 2026-12-10 10:00 – 11:30 UTC"
        );
    }
}
