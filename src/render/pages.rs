//! Pages rendered on first request and cached until the next change: one per incident and
//! one per history page. The export renders all of them.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;

use super::cache::File;
use super::feeds::{self, FEED_DAYS, FEED_LIMIT};
use super::site::HTML;
use crate::config::Config;
use crate::db::incidents::{self, Filter};
use crate::domain::uptime::day_start;
use crate::views::history_page::{self, HistoryView, MONTHS_PER_PAGE, Month};
use crate::views::{Links, Site, incident_page};

fn html(path: String, markup: maud::Markup) -> File {
    File {
        path,
        content_type: HTML,
        body: bytes::Bytes::from(markup.into_string()),
    }
}

/// The cache path of an incident page.
pub fn incident_path(id: i64) -> String {
    format!("incidents/{id}.html")
}

/// The cache path of a history page.
pub fn history_path(page: u32) -> String {
    if page <= 1 {
        "history.html".to_string()
    } else {
        format!("history-{page}.html")
    }
}

pub fn incident(
    config: &Config,
    conn: &Connection,
    id: i64,
    links: &Links,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<File>> {
    let Some(record) = incidents::get(conn, id)? else {
        return Ok(None);
    };
    let site = Site {
        page: &config.page,
        links,
    };
    Ok(Some(html(
        incident_path(id),
        incident_page::render(&site, &record, now),
    )))
}

/// How many history pages there are (at least one).
pub fn history_pages(conn: &Connection, now: DateTime<Utc>, zone: Tz) -> rusqlite::Result<u32> {
    let Some(oldest) = incidents::oldest_start(conn)? else {
        return Ok(1);
    };
    let today = now.with_timezone(&zone).date_naive();
    let oldest = oldest.with_timezone(&zone).date_naive();
    let months = (today.year_month_index() - oldest.year_month_index()).max(0) as u32 + 1;
    Ok(months.div_ceil(MONTHS_PER_PAGE).max(1))
}

pub fn history(
    config: &Config,
    conn: &Connection,
    page: u32,
    links: &Links,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<File>> {
    let zone = config.page.timezone;
    let pages = history_pages(conn, now, zone)?;
    if page == 0 || page > pages {
        return Ok(None);
    }
    // Months of the page's zone, like its days.
    let today = now.with_timezone(&zone).date_naive();
    let first_back = (page - 1) * MONTHS_PER_PAGE;
    let months = (first_back..first_back + MONTHS_PER_PAGE)
        .map(|back| {
            let start = history_page::month_start(today, back);
            let end = history_page::month_start(today, back.saturating_sub(1));
            let end = if back == 0 {
                now + Duration::days(1)
            } else {
                day_start(end, zone)
            };
            let from = day_start(start, zone);
            Ok(Month {
                first_day: start,
                incidents: incidents::list(conn, Filter::IncidentsBetween(from, end), now)?,
            })
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let view = HistoryView {
        page,
        months,
        has_older: page < pages,
        now,
    };
    let site = Site {
        page: &config.page,
        links,
    };
    Ok(Some(html(
        history_path(page),
        history_page::render(&site, &view),
    )))
}

trait MonthIndex {
    fn year_month_index(&self) -> i32;
}

impl MonthIndex for chrono::NaiveDate {
    fn year_month_index(&self) -> i32 {
        use chrono::Datelike;
        self.year() * 12 + self.month0() as i32
    }
}

/// The cache path of a component's feed; `format` is `rss` or `atom`.
pub fn component_feed_path(key: &str, format: &str) -> String {
    format!("components/{key}/feed.{format}")
}

/// The feed of updates affecting one component; `None` for an unknown component.
pub fn component_feed(
    config: &Config,
    conn: &Connection,
    key: &str,
    format: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<File>> {
    let Some(monitor) = crate::db::monitors::get_active(conn, key)? else {
        return Ok(None);
    };
    let entries = crate::db::feed::recent_updates(
        conn,
        now - Duration::days(FEED_DAYS),
        FEED_LIMIT,
        Some(monitor.row_id),
    )?;
    let base = config.base_url();
    let name = format!("components/{key}/feed.{format}");
    let updated = entries
        .first()
        .map_or(monitor.updated_at, |e| e.update.display_at);
    let mut meta = super::site::page_feed_meta(config, &base, &name, updated);
    meta.title = format!("{} · {}", monitor.name, config.page.title);
    meta.description = format!(
        "Incident and maintenance updates that affect {}",
        monitor.name
    );
    let (content_type, body) = match format {
        "atom" => (feeds::ATOM, feeds::atom(&meta, &entries)),
        "json" => (feeds::JSON_FEED, feeds::json(&meta, &entries)),
        _ => (feeds::RSS, feeds::rss(&meta, &entries)),
    };
    Ok(Some(File {
        path: component_feed_path(key, format),
        content_type,
        body: bytes::Bytes::from(body),
    }))
}
