//! RSS 2.0 and Atom 1.0 feeds of incident updates: one entry per update, so a reader sees
//! "resolved" as a new item. Entry ids are the update's permalink and never change.

use atom_syndication as atom;
use chrono::{DateTime, Utc};
use maud::html;

use crate::db::feed::FeedEntry;

/// Feeds list at most this many entries, from at most [`FEED_DAYS`] days back.
pub const FEED_LIMIT: usize = 50;
pub const FEED_DAYS: i64 = 90;

pub const RSS: &str = "application/rss+xml; charset=utf-8";
pub const ATOM: &str = "application/atom+xml; charset=utf-8";

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
}

fn title(e: &FeedEntry) -> String {
    format!("[{}] {}", e.update.status.label(), e.incident_name)
}

fn link(meta: &FeedMeta<'_>, e: &FeedEntry) -> String {
    format!(
        "{}/incidents/{}#update-{}",
        meta.base, e.update.incident_id, e.update.id
    )
}

/// The sanitized note, then the affected components and their changes.
fn entry_html(e: &FeedEntry) -> String {
    let extra = html! {
        @if !e.update.changes.is_empty() {
            p {
                strong { "Components: " }
                @for (i, c) in e.update.changes.iter().enumerate() {
                    @if i > 0 { "; " }
                    (c.name) " (" (c.old.label()) " → " (c.new.label()) ")"
                }
            }
        } @else if !e.components.is_empty() {
            p { strong { "Affected: " } (e.components.join(", ")) }
        }
    };
    format!("{}{}", e.update.body_html, extra.into_string())
}

pub fn rss(meta: &FeedMeta<'_>, entries: &[FeedEntry]) -> String {
    let items: Vec<rss::Item> = entries
        .iter()
        .map(|e| {
            let url = link(meta, e);
            let mut item = rss::Item::default();
            item.set_title(title(e));
            item.set_link(url.clone());
            item.set_guid(rss::Guid {
                value: url,
                permalink: true,
            });
            item.set_pub_date(e.update.display_at.to_rfc2822());
            item.set_description(entry_html(e));
            item.set_categories(vec![rss::Category {
                name: e.update.status.as_str().to_string(),
                domain: None,
            }]);
            item
        })
        .collect();
    let mut self_link = atom::Link::default();
    self_link.set_rel("self");
    self_link.set_href(meta.self_url.clone());
    self_link.set_mime_type(Some("application/rss+xml".to_string()));
    let mut atom_ext = rss::extension::atom::AtomExtension::default();
    atom_ext.set_links(vec![self_link]);
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
    let link = |rel: &str, href: String, mime: &str| {
        let mut l = atom::Link::default();
        l.set_rel(rel);
        l.set_href(href);
        l.set_mime_type(Some(mime.to_string()));
        l
    };
    let mut author = atom::Person::default();
    author.set_name(meta.title.clone());
    author.set_uri(Some(meta.home.clone()));
    let items: Vec<atom::Entry> = entries
        .iter()
        .map(|e| {
            let url = self::link(meta, e);
            let at = e.update.display_at.fixed_offset();
            let mut content = atom::Content::default();
            content.set_content_type(Some("html".to_string()));
            content.set_value(Some(entry_html(e)));
            let mut entry = atom::Entry::default();
            entry.set_title(atom::Text::plain(title(e)));
            entry.set_id(url.clone());
            entry.set_updated(at);
            entry.set_published(Some(at));
            entry.set_links(vec![link("alternate", url, "text/html")]);
            entry.set_content(Some(content));
            entry.set_categories(vec![atom::Category {
                term: e.update.status.as_str().to_string(),
                scheme: None,
                label: Some(e.update.status.label().to_string()),
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
    feed.set_links(vec![
        link("self", meta.self_url.clone(), "application/atom+xml"),
        link("alternate", meta.home.clone(), "text/html"),
    ]);
    feed.set_generator(Some(atom::Generator {
        value: "signalfire".to_string(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").to_string()),
    }));
    feed.set_entries(items);
    crate::markdown::xml_safe(feed.to_string())
}
