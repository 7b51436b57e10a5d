//! The pages of e-mail subscriptions: sign up, check your inbox, confirmed, manage,
//! unsubscribed. Plain forms, no JavaScript.

use maud::{Markup, html};

use super::{Site, layout};

/// `(monitor id, name)` of every component a subscriber can follow.
pub type Choices = [(String, String)];

/// The components as checkboxes; `chosen` are ticked (none ticked: every component).
fn component_boxes(choices: &Choices, chosen: &[String]) -> Markup {
    html! {
        fieldset.components-field {
            legend { "Components (none ticked: all of them)" }
            @for (key, name) in choices {
                @let field = format!("component.{key}");
                div.check {
                    input id=(field) type="checkbox" name=(field) value="on" checked[chosen.iter().any(|c| c == key)];
                    label for=(field) { (name) }
                }
            }
        }
    }
}

/// `GET /subscribe`, or the form again with what was wrong.
pub fn form(
    site: &Site<'_>,
    choices: &Choices,
    email: &str,
    chosen: &[String],
    error: Option<&str>,
) -> Markup {
    layout::page(
        site,
        Some("Get updates by e-mail"),
        html! {
            section.form {
                h1 { "Get updates by e-mail" }
                p {
                    "We send a mail when an incident or a maintenance concerns what you follow. "
                    "You confirm first; every mail has a link to change or stop it."
                }
                @if let Some(error) = error { p.form-error role="alert" { (error) } }
                form method="post" action="/subscribe" {
                    label for="email" { "Your e-mail address" }
                    input #email name="email" type="email" autocomplete="email" required value=(email);
                    (component_boxes(choices, chosen))
                    div.buttons { button type="submit" { "Subscribe" } }
                }
            }
        },
    )
}

/// After a sign-up, whatever the address: no one learns who is subscribed.
pub fn check_inbox(site: &Site<'_>) -> Markup {
    message(
        site,
        "Check your inbox",
        "If the address can receive mail, a message with a confirmation link is on its way. Nothing more is sent until you confirm.",
    )
}

/// `GET /subscribe/confirm?token=…` (a link a mail scanner may follow): a button, not an action.
pub fn confirm_button(site: &Site<'_>, token: &str) -> Markup {
    let action = format!("/subscribe/confirm?token={token}");
    layout::page(
        site,
        Some("Confirm your subscription"),
        html! {
            section.form {
                h1 { "Confirm your subscription" }
                p { "Press the button to start getting e-mail updates. If you did not ask for them, close this page: nothing will be sent." }
                form method="post" action=(action) {
                    div.buttons { button type="submit" { "Confirm my subscription" } }
                }
            }
        },
    )
}

pub fn confirmed(site: &Site<'_>, manage: &str) -> Markup {
    layout::page(
        site,
        Some("Subscription confirmed"),
        html! {
            section.notice {
                h1 { "Subscription confirmed" }
                p { "You will get a mail when an incident or a maintenance concerns what you follow." }
                p { a href=(manage) { "Choose what you get, or unsubscribe" } }
                p { a href=(site.links.home()) { "Back to the status page" } }
            }
        },
    )
}

/// `GET /subscribe/manage?token=…`
pub fn manage(
    site: &Site<'_>,
    token: &str,
    email: &str,
    choices: &Choices,
    chosen: &[String],
    saved: bool,
) -> Markup {
    let action = format!("/subscribe/manage?token={token}");
    layout::page(
        site,
        Some("Your e-mail updates"),
        html! {
            section.form {
                h1 { "Your e-mail updates" }
                p { "Updates go to " strong { (email) } "." }
                @if saved { p.saved role="status" { "Saved." } }
                form method="post" action=(action) {
                    (component_boxes(choices, chosen))
                    div.buttons {
                        button type="submit" name="action" value="save" { "Save" }
                        button.danger type="submit" name="action" value="unsubscribe" { "Unsubscribe" }
                    }
                }
            }
        },
    )
}

/// `GET /unsubscribe?token=…` (a link a mail client may prefetch): a button, not an action.
pub fn unsubscribe_button(site: &Site<'_>, token: &str) -> Markup {
    let action = format!("/unsubscribe?token={token}");
    layout::page(
        site,
        Some("Unsubscribe"),
        html! {
            section.form {
                h1 { "Unsubscribe" }
                p { "Stop all e-mail updates to this address?" }
                form method="post" action=(action) {
                    div.buttons { button.danger type="submit" { "Unsubscribe" } }
                }
            }
        },
    )
}

/// After an unsubscribe; `removed` is false when the link matched no one (already used, or
/// expired).
pub fn unsubscribed(site: &Site<'_>, removed: bool) -> Markup {
    if removed {
        message(
            site,
            "You are unsubscribed",
            "No more mail will come. You can sign up again at any time.",
        )
    } else {
        message(
            site,
            "Nothing to unsubscribe",
            "This link matches no subscription: you are unsubscribed already, or the link has \
             expired. If mail still comes, use the link in the newest one.",
        )
    }
}

fn message(site: &Site<'_>, heading: &str, text: &str) -> Markup {
    super::error_page::message(site, heading, text)
}
