//! An `ntfy` channel: the text posted to the topic URL, with `Title`, `Priority` (from the
//! severity), `Tags` and `Click` headers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use url::Url;

use crate::config::notify::Secret;
use crate::notify::message::Message;

/// Header values are ASCII; anything else goes as an RFC 2047 encoded word, which ntfy reads.
fn header_text(text: &str) -> String {
    if text.is_ascii() && !text.contains(['\r', '\n']) {
        text.to_string()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            STANDARD.encode(text.replace(['\r', '\n'], " "))
        )
    }
}

pub fn request(
    client: &reqwest::Client,
    url: &Url,
    token: Option<&Secret>,
    message: &Message,
) -> reqwest::RequestBuilder {
    let mut request = client
        .post(url.clone())
        .header("Title", header_text(&message.title))
        .header("Priority", message.severity.ntfy_priority().to_string())
        .header("Tags", message.tags.join(","))
        .header("Click", message.url.clone())
        .header("content-type", "text/plain; charset=utf-8");
    if let Some(token) = token {
        request = request.bearer_auth(token.expose());
    }
    request.body(message.text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_titles_become_encoded_words() {
        assert_eq!(header_text("Blog is down"), "Blog is down");
        assert_eq!(header_text("Café"), "=?UTF-8?B?Q2Fmw6k=?=");
    }
}
