//! `/admin/maintenances/new` and `/admin/maintenances/{id}`: schedule, edit, and the way to
//! cancel (a confirm step).

use maud::{Markup, html};

use super::super::Site;
use super::incident_form::Choices;
use super::{FormState, csrf_field, form_messages, note_and_buttons, page};

/// The form; `id` is set when editing an existing maintenance.
pub fn render(site: &Site<'_>, state: &FormState, choices: &Choices, id: Option<i64>) -> Markup {
    let v = &state.values;
    let (title, action, submit) = match id {
        Some(id) => (
            "Edit maintenance",
            format!("/admin/maintenances/{id}"),
            "Save changes",
        ),
        None => (
            "Schedule maintenance",
            "/admin/maintenances/new".to_string(),
            "Schedule",
        ),
    };
    let tz = site.page.timezone.name();
    page(
        site,
        title,
        &state.csrf,
        html! {
            (form_messages(state))
            form.form method="post" action=(action) {
                (csrf_field(&state.csrf))
                label for="name" { "Title" }
                input #name name="name" type="text" required maxlength="200" value=(v.value("name"))
                    placeholder="Order system upgrade";
                div.field-pair {
                    div {
                        label for="scheduled_for" { "Starts (" (tz) ")" }
                        input #scheduled_for name="scheduled_for" type="datetime-local" required value=(v.value("scheduled_for"));
                    }
                    div {
                        label for="scheduled_until" { "Ends (" (tz) ")" }
                        input #scheduled_until name="scheduled_until" type="datetime-local" required value=(v.value("scheduled_until"));
                    }
                }
                fieldset.components-field {
                    legend { "Components under maintenance" }
                    @for (key, name) in choices {
                        @let field = format!("component.{key}");
                        div.field-row {
                            input type="checkbox" id=(field) name=(field) value="on" checked[v.get(&field).is_some()];
                            label for=(field) { (name) }
                        }
                    }
                }
                (note_and_buttons(v, if id.is_some() { "Note to add (optional)" } else { "What will happen" }, submit))
            }
            @if let Some(id) = id {
                p { a.danger-link href={ "/admin/maintenances/" (id) "/cancel" } { "Cancel this maintenance…" } }
            }
        },
    )
}
