//! WebSub publish pings: tell a hub which feeds gained an item, so subscribers of the feed hear
//! of it at once instead of on their next poll. One request names every such feed
//! (`hub.url` repeated), as hubs following PubSubHubbub 0.4 accept.

use reqwest::header::CONTENT_TYPE;
use url::Url;

use crate::config::Config;
use crate::notify::message::Message;
use crate::render::site::{self, PAGE_FEEDS};

/// The absolute URLs of the feeds an update of `message` reached: the page's own, and those
/// of each component it is about.
pub fn feeds(config: &Config, message: &Message) -> Vec<String> {
    let base = config.base_url();
    PAGE_FEEDS
        .iter()
        .map(|name| format!("{base}/{name}"))
        .chain(
            message
                .components
                .iter()
                .flat_map(|key| site::component_feeds(key))
                .map(|path| format!("{base}/{path}")),
        )
        .collect()
}

pub fn request(
    http: &reqwest::Client,
    hub: &Url,
    config: &Config,
    message: &Message,
) -> reqwest::RequestBuilder {
    let mut form: Vec<(&str, String)> = vec![("hub.mode", "publish".to_string())];
    form.extend(
        feeds(config, message)
            .into_iter()
            .map(|url| ("hub.url", url)),
    );
    let body = serde_urlencoded::to_string(&form).unwrap_or_default();
    http.post(hub.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
}
