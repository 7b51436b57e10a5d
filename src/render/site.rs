//! Renders the whole public site into files: the same set the server caches and the static
//! export writes.

use bytes::Bytes;
use maud::Markup;

use super::cache::File;
use super::feeds::{self, FeedMeta};
use super::{badge, calendar, statuspage};
use crate::assets;
use crate::config::Config;
use crate::views::model::Snapshot;
use crate::views::{self, Links};

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";

fn html(path: &str, markup: Markup) -> File {
    File {
        path: path.to_string(),
        content_type: HTML,
        body: Bytes::from(markup.into_string()),
    }
}

fn json(path: &str, value: &impl serde::Serialize) -> anyhow::Result<File> {
    Ok(File {
        path: path.to_string(),
        content_type: JSON,
        body: Bytes::from(serde_json::to_vec(value)?),
    })
}

fn text(path: String, content_type: &'static str, body: String) -> File {
    File {
        path,
        content_type,
        body: Bytes::from(body),
    }
}

/// Feed settings for the whole page; `name` is the feed's file name (`feed.rss`, …).
pub fn page_feed_meta<'a>(
    config: &Config,
    base: &'a str,
    name: &str,
    updated: chrono::DateTime<chrono::Utc>,
) -> FeedMeta<'a> {
    let description = if config.page.description.is_empty() {
        format!("Incident and maintenance updates of {}", config.page.title)
    } else {
        config.page.description.clone()
    };
    FeedMeta {
        title: config.page.title.clone(),
        description,
        base,
        self_url: format!("{base}/{name}"),
        home: format!("{base}/"),
        updated,
        hubs: config.websub_hubs.iter().map(|h| h.to_string()).collect(),
        zone: config.page.timezone,
    }
}

/// The page's own feeds (file names), which every new update reaches.
pub const PAGE_FEEDS: [&str; 5] = [
    "feed.rss",
    "feed.atom",
    "feed.json",
    "history.rss",
    "history.atom",
];

/// The feeds of one component (paths), which its incidents' updates reach.
pub fn component_feeds(key: &str) -> [String; 3] {
    ["rss", "atom", "json"].map(|format| format!("components/{key}/feed.{format}"))
}

/// Every public file, rendered from one snapshot.
pub fn render(config: &Config, snapshot: &Snapshot, links: &Links) -> anyhow::Result<Vec<File>> {
    let site = views::Site {
        page: &config.page,
        links,
    };
    let api = statuspage::Api::new(config, snapshot);
    let base = config.base_url();
    let updated = snapshot
        .feed
        .first()
        .map_or_else(|| snapshot.updated_at(), |e| e.update.display_at);
    let mut files = Vec::new();
    for name in ["feed.rss", "history.rss"] {
        let meta = page_feed_meta(config, &base, name, updated);
        files.push(text(
            name.to_string(),
            feeds::RSS,
            feeds::rss(&meta, &snapshot.feed),
        ));
    }
    for name in ["feed.atom", "history.atom"] {
        let meta = page_feed_meta(config, &base, name, updated);
        files.push(text(
            name.to_string(),
            feeds::ATOM,
            feeds::atom(&meta, &snapshot.feed),
        ));
    }
    let meta = page_feed_meta(config, &base, "feed.json", updated);
    files.push(text(
        "feed.json".to_string(),
        feeds::JSON_FEED,
        feeds::json(&meta, &snapshot.feed),
    ));
    files.push(calendar::page_file(config, &snapshot.calendar));
    for c in &snapshot.components {
        let path = format!("badge/{}.svg", c.monitor.key);
        files.push(text(
            path,
            badge::SVG,
            badge::svg(&c.monitor.name, c.known_status()),
        ));
    }
    // Assets go through the cache too: gzipped once, with validators.
    files.extend(assets::ALL.iter().map(|a| File {
        path: format!("assets/{}", a.name),
        content_type: a.content_type,
        body: Bytes::from_static(a.body),
    }));
    files.extend([
        html("index.html", views::status_page::render(&site, snapshot)),
        html(
            "embed.html",
            views::embed::render(&site, snapshot, &base, false),
        ),
        html(
            "embed-operational.html",
            views::embed::render(&site, snapshot, &base, true),
        ),
        json("widget.json", &api.widget())?,
        html("404.html", views::error_page::not_found(&site)),
        json("api/v2/status.json", &api.status())?,
        json("api/v2/components.json", &api.components())?,
        json("api/v2/summary.json", &api.summary())?,
        json("api/v2/incidents.json", &api.all_incidents())?,
        json(
            "api/v2/incidents/unresolved.json",
            &api.unresolved_incidents(),
        )?,
        json(
            "api/v2/scheduled-maintenances.json",
            &api.all_maintenances(),
        )?,
        json(
            "api/v2/scheduled-maintenances/upcoming.json",
            &api.upcoming_maintenances(),
        )?,
        json(
            "api/v2/scheduled-maintenances/active.json",
            &api.active_maintenances(),
        )?,
    ]);
    Ok(files)
}
