//! The owner's web UI: plain HTML forms, no JavaScript. Every form carries the CSRF token.

pub mod confirm;
pub mod dashboard;
pub mod incident_form;
pub mod jobs;
pub mod login;
pub mod maintenance_form;
pub mod notifications;

use maud::{Markup, PreEscaped, html};

use super::{Site, layout};

/// Submitted form fields, kept to refill a form after an error or a preview.
#[derive(Debug, Clone, Default)]
pub struct FormValues(pub Vec<(String, String)>);

impl FormValues {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn value(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Fields named `{prefix}{key}`, as `(key, value)`.
    pub fn with_prefix<'a>(
        &'a self,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.0
            .iter()
            .filter_map(move |(k, v)| k.strip_prefix(prefix).map(|key| (key, v.as_str())))
    }
}

/// What a form page shows besides its fields.
#[derive(Debug, Clone, Default)]
pub struct FormState {
    pub csrf: String,
    pub values: FormValues,
    pub error: Option<String>,
    /// The rendered note, when the owner asked for a preview.
    pub preview: Option<String>,
}

/// An admin page: the layout with the owner's navigation.
pub fn page(site: &Site<'_>, title: &str, csrf: &str, body: Markup) -> Markup {
    layout::page(
        site,
        Some(title),
        html! {
            nav.admin-nav aria-label="Owner" {
                a href="/admin" { "Dashboard" }
                a href="/admin/incidents/new" { "Open an incident" }
                a href="/admin/maintenances/new" { "Schedule maintenance" }
                a href="/admin/notifications" { "Notifications" }
                a href="/admin/jobs" { "Jobs" }
                a href="/" { "Public page" }
                form method="post" action="/admin/logout" {
                    input type="hidden" name="csrf" value=(csrf);
                    button.link type="submit" { "Log out" }
                }
            }
            h1 { (title) }
            (body)
        },
    )
}

/// The error box and the preview box above a form.
pub fn form_messages(state: &FormState) -> Markup {
    html! {
        @if let Some(error) = &state.error {
            p.form-error role="alert" { (error) }
        }
        @if let Some(preview) = &state.preview {
            section.preview aria-label="Preview of the note" {
                h2 { "Preview" }
                div.note { (PreEscaped(preview)) }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A Markdown note field with Preview and submit buttons.
pub fn note_and_buttons(values: &FormValues, label: &str, submit: &str) -> Markup {
    html! {
        label for="body" { (label) " " span.hint { "(Markdown)" } }
        textarea #body name="body" rows="6" { (values.value("body")) }
        div.check {
            input #quiet type="checkbox" name="quiet" value="on" checked[values.get("quiet").is_some()];
            label for="quiet" { "Post quietly: notify no channel and no subscriber" }
        }
        div.buttons {
            button type="submit" name="action" value="save" { (submit) }
            button.secondary type="submit" name="action" value="preview" { "Preview" }
        }
    }
}
