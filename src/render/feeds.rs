//! The feeds of incident updates — RSS 2.0, Atom 1.0 and JSON Feed 1.1 — written from one item
//! model: one entry per update, so a reader sees "resolved" as a new item. Entry ids are the
//! update's permalink and never change.

use atom_syndication as atom;
use chrono::{DateTime, Utc};
use maud::html;
use serde_json::json;

use crate::db::feed::FeedEntry;
use crate::domain::window::window_words;

/// Feeds list at most this many entries, from at most [`FEED_DAYS`] days back.
pub const FEED_LIMIT: usize = 50;
pub const FEED_DAYS: i64 = 90;

pub const RSS: &str = "application/rss+xml; charset=utf-8";
pub const ATOM: &str = "application/atom+xml; charset=utf-8";
pub const JSON_FEED: &str = "application/feed+json; charset=utf-8";

/// What a feed is about.
pub struct FeedMeta<'a> {
    pub title: String,
    pub description: String,
    /// The page's absolute base URL, without a trailing slash.
    pub base: &'a str,
    /// The feed's own absolute URL.
    pub self_url: String,
    /// The page a reader opens for the feed as a whole.
    pub home: String,
    /// When the feed last changed (the newest entry, or the page's last update).
    pub updated: DateTime<Utc>,
    /// WebSub hubs that announce the feed's new items (`[feeds] websub_hubs`).
    pub hubs: Vec<String>,
    /// The page's time zone, for the words of a maintenance window.
    pub zone: chrono_tz::Tz,
}

/// One feed item: an incident or maintenance update. The one model RSS, Atom and JSON Feed
/// are written from, so the three always hold the same items with the same ids.
pub struct Item {
    /// The update's permalink: also its id, which never changes.
    pub url: String,
    /// `[Identified] Blog comments broken`
    pub title: String,
    pub at: DateTime<Utc>,
    /// A maintenance's window, then the sanitized note, then the components and their changes.
    pub html: String,
    /// The status word (`identified`) and its label (`Identified`).
    pub status: &'static str,
    pub label: &'static str,
}

impl Item {
    fn of(meta: &FeedMeta<'_>, e: &FeedEntry) -> Self {
        Self {
            url: format!(
                "{}/incidents/{}#update-{}",
                meta.base, e.update.incident_id, e.update.id
            ),
            title: format!("[{}] {}", e.update.status.label(), e.incident_name),
            at: e.update.display_at,
            html: entry_html(e, meta.zone),
            status: e.update.status.as_str(),
            label: e.update.status.label(),
        }
    }
}

fn items(meta: &FeedMeta<'_>, entries: &[FeedEntry]) -> Vec<Item> {
    entries.iter().map(|e| Item::of(meta, e)).collect()
}

/// A maintenance's window (in the page's zone and UTC: every item says when, not only the
/// first), the sanitized note, then the affected components and their changes.
fn entry_html(e: &FeedEntry, zone: chrono_tz::Tz) -> String {
    let window = html! {
        @if let Some((from, until)) = e.window {
            p { strong { "Window: " } (window_words(from, until, zone)) }
        }
    };
    let extra = html! {
        @if !e.update.changes.is_empty() {
            p {
                strong { "Components: " }
                @for (i, c) in e.update.changes.iter().enumerate() {
                    @if i > 0 { "; " }
                    (c.name) " ("
                    @if let Some(old) = c.old { (old.label()) " → " }
                    (c.new.label()) ")"
                }
            }
        } @else if !e.components.is_empty() {
            p { strong { "Affected: " } (e.components.join(", ")) }
        }
    };
    format!(
        "{}{}{}",
        window.into_string(),
        e.update.body_html,
        extra.into_string()
    )
}

fn atom_link(rel: &str, href: String, mime: Option<&str>) -> atom::Link {
    let mut l = atom::Link::default();
    l.set_rel(rel);
    l.set_href(href);
    l.set_mime_type(mime.map(str::to_string));
    l
}

pub fn rss(meta: &FeedMeta<'_>, entries: &[FeedEntry]) -> String {
    let items: Vec<rss::Item> = items(meta, entries)
        .into_iter()
        .map(|i| {
            let mut item = rss::Item::default();
            item.set_title(i.title);
            item.set_link(i.url.clone());
            item.set_guid(rss::Guid {
                value: i.url,
                permalink: true,
            });
            item.set_pub_date(i.at.to_rfc2822());
            item.set_description(i.html);
            item.set_categories(vec![rss::Category {
                name: i.status.to_string(),
                domain: None,
            }]);
            item
        })
        .collect();
    let mut links = vec![atom_link(
        "self",
        meta.self_url.clone(),
        Some("application/rss+xml"),
    )];
    links.extend(meta.hubs.iter().map(|h| atom_link("hub", h.clone(), None)));
    let mut atom_ext = rss::extension::atom::AtomExtension::default();
    atom_ext.set_links(links);
    let mut channel = rss::Channel::default();
    channel.set_title(meta.title.clone());
    channel.set_link(meta.home.clone());
    channel.set_description(meta.description.clone());
    channel.set_language(Some("en".to_string()));
    channel.set_last_build_date(Some(meta.updated.to_rfc2822()));
    channel.set_generator(Some(format!("signalfire {}", env!("CARGO_PKG_VERSION"))));
    channel.set_ttl(Some("1".to_string()));
    channel.set_namespaces(std::collections::BTreeMap::from([(
        "atom".to_string(),
        "http://www.w3.org/2005/Atom".to_string(),
    )]));
    channel.set_atom_ext(Some(atom_ext));
    channel.set_items(items);
    crate::markdown::xml_safe(channel.to_string())
}

pub fn atom(meta: &FeedMeta<'_>, entries: &[FeedEntry]) -> String {
    let mut author = atom::Person::default();
    author.set_name(meta.title.clone());
    author.set_uri(Some(meta.home.clone()));
    let entries: Vec<atom::Entry> = items(meta, entries)
        .into_iter()
        .map(|i| {
            let at = i.at.fixed_offset();
            let mut content = atom::Content::default();
            content.set_content_type(Some("html".to_string()));
            content.set_value(Some(i.html));
            let mut entry = atom::Entry::default();
            entry.set_title(atom::Text::plain(i.title));
            entry.set_id(i.url.clone());
            entry.set_updated(at);
            entry.set_published(Some(at));
            entry.set_links(vec![atom_link("alternate", i.url, Some("text/html"))]);
            entry.set_content(Some(content));
            entry.set_categories(vec![atom::Category {
                term: i.status.to_string(),
                scheme: None,
                label: Some(i.label.to_string()),
            }]);
            entry
        })
        .collect();
    let mut feed = atom::Feed::default();
    feed.set_title(atom::Text::plain(meta.title.clone()));
    feed.set_subtitle(Some(atom::Text::plain(meta.description.clone())));
    feed.set_id(meta.self_url.clone());
    feed.set_updated(meta.updated.fixed_offset());
    feed.set_authors(vec![author]);
    let mut links = vec![
        atom_link("self", meta.self_url.clone(), Some("application/atom+xml")),
        atom_link("alternate", meta.home.clone(), Some("text/html")),
    ];
    links.extend(meta.hubs.iter().map(|h| atom_link("hub", h.clone(), None)));
    feed.set_links(links);
    feed.set_generator(Some(atom::Generator {
        value: "signalfire".to_string(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
    }));
    feed.set_entries(entries);
    crate::markdown::xml_safe(feed.to_string())
}

/// JSON Feed 1.1 (<https://www.jsonfeed.org/version/1.1/>).
pub fn json(meta: &FeedMeta<'_>, entries: &[FeedEntry]) -> String {
    let items: Vec<serde_json::Value> = items(meta, entries)
        .into_iter()
        .map(|i| {
            json!({
                "id": i.url,
                "url": i.url,
                "title": i.title,
                "content_html": i.html,
                "date_published": i.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "tags": [i.status],
            })
        })
        .collect();
    let mut feed = json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": meta.title,
        "home_page_url": meta.home,
        "feed_url": meta.self_url,
        "description": meta.description,
        "language": "en",
        "authors": [{"name": meta.title, "url": meta.home}],
        "items": items,
    });
    if !meta.hubs.is_empty() {
        feed["hubs"] = meta
            .hubs
            .iter()
            .map(|h| json!({"type": "WebSub", "url": h}))
            .collect();
    }
    serde_json::to_string(&feed).unwrap_or_else(|_| "{}".to_string())
}
