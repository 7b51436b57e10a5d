//! A `mastodon` channel: a public status on the owner's account, for incident and maintenance
//! updates only — a channel to clients that does not share the site's fate. The delivery id is
//! the `Idempotency-Key`, so a retry never posts twice.

use serde_json::json;
use url::Url;

use crate::config::notify::Secret;
use crate::notify::message::Message;

/// A status holds this many characters on most instances.
const STATUS_LENGTH: usize = 500;

/// Title, text and link, the text shortened to fit.
fn status(message: &Message) -> String {
    let head = format!("{}\n\n", message.title);
    let tail = format!("\n\n{}", message.url);
    let room = STATUS_LENGTH.saturating_sub(head.chars().count() + tail.chars().count());
    let mut text: String = message.text.chars().take(room).collect();
    if message.text.chars().count() > room && room > 0 {
        text.pop();
        text.push('…');
    }
    format!("{head}{text}{tail}")
}

pub fn request(
    client: &reqwest::Client,
    instance: &Url,
    token: &Secret,
    message: &Message,
    delivery: &str,
) -> reqwest::RequestBuilder {
    let endpoint = instance
        .join("/api/v1/statuses")
        .unwrap_or_else(|_| instance.clone());
    client
        .post(endpoint)
        .bearer_auth(token.expose())
        .header("Idempotency-Key", delivery)
        .json(&json!({ "status": status(message), "visibility": "public" }))
}
