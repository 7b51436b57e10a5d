//! `slack` and `discord` channels, in those services' incoming-webhook message shapes.

use serde_json::json;
use url::Url;

use crate::config::Config;
use crate::domain::notification::Severity;
use crate::notify::message::Message;

/// Slack's mrkdwn reserves these three characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack incoming webhook: `text` (the fallback and notification text) and blocks.
pub fn slack(
    client: &reqwest::Client,
    url: &Url,
    config: &Config,
    message: &Message,
) -> reqwest::RequestBuilder {
    let title = slack_escape(&message.title);
    let text = slack_escape(&message.text);
    let link = format!("<{}|{}>", message.url, slack_escape(&config.page.title));
    let body = json!({
        "text": format!("{title}: {text}"),
        "blocks": [
            {
                "type": "section",
                "text": { "type": "mrkdwn", "text": format!("*{title}*\n{text}") }
            },
            {
                "type": "context",
                "elements": [ { "type": "mrkdwn", "text": link } ]
            }
        ]
    });
    client.post(url.clone()).json(&body)
}

/// The left border of a Discord embed.
fn colour(severity: Severity) -> u32 {
    match severity {
        Severity::Urgent => 0xC5_3030,
        Severity::High => 0xD9_631E,
        Severity::Normal => 0x2B_6CB0,
        Severity::Low => 0x1F_8A4C,
    }
}

/// Characters a Discord embed takes in its title and description.
const DISCORD_TITLE: usize = 256;
const DISCORD_DESCRIPTION: usize = 4_096;

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut clipped: String = text.chars().take(max - 1).collect();
    clipped.push('…');
    clipped
}

/// Discord webhook: one embed; mentions in the text never ping anyone.
pub fn discord(client: &reqwest::Client, url: &Url, message: &Message) -> reqwest::RequestBuilder {
    let body = json!({
        "embeds": [{
            "title": clip(&message.title, DISCORD_TITLE),
            "description": clip(&message.text, DISCORD_DESCRIPTION),
            "url": message.url,
            "color": colour(message.severity),
            "timestamp": message.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }],
        "allowed_mentions": { "parse": [] }
    });
    client.post(url.clone()).json(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_clipped_to_discords_limits() {
        assert_eq!(clip("short", 10), "short");
        assert_eq!(clip("abcdefghijk", 5), "abcd…");
        assert_eq!(
            clip(&"é".repeat(5_000), DISCORD_DESCRIPTION)
                .chars()
                .count(),
            4_096
        );
    }
}
