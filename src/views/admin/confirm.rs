//! The step before a delete (SPEC §11): `GET` shows what will go and a button, only the
//! button's `POST` acts; then a page that says what happened.

use maud::{Markup, html};

use super::super::Site;
use super::{csrf_field, page};

/// What the owner is asked before something goes.
pub struct Ask<'a> {
    /// The page's heading: "Delete this incident?"
    pub title: &'a str,
    /// What will go or change, one line each.
    pub goes: &'a [String],
    /// Where the button posts (the same address as the page).
    pub action: &'a str,
    pub button: &'a str,
    /// Where "keep it" leads.
    pub back: &'a str,
}

/// `GET` of a delete: what goes, the confirm button, and the way back.
pub fn ask(site: &Site<'_>, csrf: &str, ask: &Ask<'_>) -> Markup {
    page(
        site,
        ask.title,
        csrf,
        html! {
            section.confirm {
                p { "This cannot be undone:" }
                ul { @for line in ask.goes { li { (line) } } }
                form.inline method="post" action=(ask.action) {
                    (csrf_field(csrf))
                    button.danger type="submit" { (ask.button) }
                }
                p { a href=(ask.back) { "No, keep it" } }
            }
        },
    )
}

/// After the confirming `POST`: what happened, and the way on.
pub fn done(site: &Site<'_>, csrf: &str, title: &str, said: &str) -> Markup {
    page(
        site,
        title,
        csrf,
        html! {
            p.saved role="status" { (said) }
            p { a href="/admin" { "Back to the dashboard" } }
        },
    )
}

/// "1 update", "3 updates".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}
