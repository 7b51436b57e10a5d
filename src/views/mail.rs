//! The text and HTML parts of a notification e-mail.

use maud::{DOCTYPE, PreEscaped, html};

/// What a mail says: the message's words, without knowing where they came from.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    /// The page's title, as the signature.
    pub page: &'a str,
    pub title: &'a str,
    pub text: &'a str,
    /// Safe HTML (escaped or sanitized when it was written).
    pub html: &'a str,
    pub url: &'a str,
}

/// The links a subscriber's mail carries.
#[derive(Debug, Clone)]
pub enum Links {
    /// The double opt-in link.
    Confirm(String),
    /// Change the components or unsubscribe.
    Manage(String),
}

/// `(text, html)` of a mail: the message, its link, and the subscriber's links.
pub fn bodies(message: &Content<'_>, links: Option<&Links>) -> (String, String) {
    let mut text = format!("{}\n\n{}\n", message.title, message.text);
    match links {
        Some(Links::Confirm(url)) => text.push_str(&format!("\nConfirm: {url}\n")),
        Some(Links::Manage(url)) => text.push_str(&format!(
            "\n{}\n\nChoose what you get, or unsubscribe: {url}\n",
            message.url
        )),
        None => text.push_str(&format!("\n{}\n", message.url)),
    }
    text.push_str(&format!("\n-- \n{}\n", message.page));
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (message.title) }
            }
            body style="font-family: system-ui, sans-serif; color: #1c2430; line-height: 1.5" {
                h1 style="font-size: 1.2rem" { (message.title) }
                div { (PreEscaped(message.html)) }
                @match links {
                    Some(Links::Confirm(url)) => {
                        p { a href=(url) { "Confirm my subscription" } }
                    }
                    Some(Links::Manage(url)) => {
                        p { a href=(message.url) { "Read it on the status page" } }
                        p style="color: #5b6675; font-size: .85rem" {
                            "You asked for these updates. "
                            a href=(url) { "Choose what you get, or unsubscribe" } "."
                        }
                    }
                    None => {
                        p { a href=(message.url) { "Open the status page" } }
                    }
                }
                p style="color: #5b6675; font-size: .85rem" { (message.page) }
            }
        }
    };
    (text, html.into_string())
}
