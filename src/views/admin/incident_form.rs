//! `/admin/incidents/new` and `/admin/incidents/{id}`: open an incident; post updates to it.

use maud::{Markup, html};

use super::super::Site;
use super::super::timeline::update_entry;
use super::{FormState, FormValues, csrf_field, form_messages, note_and_buttons, page};
use crate::db::incidents::IncidentRecord;
use crate::domain::incident::{Kind, Status};
use crate::domain::status::{ComponentStatus, Impact};

/// `(monitor id, name)` of every component the owner can pick.
pub type Choices = [(String, String)];

fn status_select(
    values: &FormValues,
    kind: Kind,
    default: Status,
    skip_postmortem: bool,
) -> Markup {
    let chosen = values.get("status").unwrap_or(default.as_str());
    html! {
        label for="status" { "Status" }
        select #status name="status" {
            @for s in Status::words_for(kind) {
                @if !(skip_postmortem && *s == Status::Postmortem) {
                    option value=(s.as_str()) selected[chosen == s.as_str()] { (s.label()) }
                }
            }
        }
    }
}

/// One select per component; `blank` is the label of "leave it alone".
fn component_selects(values: &FormValues, choices: &Choices, blank: &str) -> Markup {
    html! {
        fieldset.components-field {
            legend { "Affected components" }
            @for (key, name) in choices {
                @let field = format!("component.{key}");
                @let chosen = values.value(&field);
                div.field-row {
                    label for=(field) { (name) }
                    select id=(field) name=(field) {
                        option value="" selected[chosen.is_empty()] { (blank) }
                        @for s in ComponentStatus::ALL {
                            option value=(s.as_str()) selected[chosen == s.as_str()] { (s.label()) }
                        }
                    }
                }
            }
        }
    }
}

pub fn new_incident(site: &Site<'_>, state: &FormState, choices: &Choices) -> Markup {
    let v = &state.values;
    let impact = v.value("impact");
    page(
        site,
        "Open an incident",
        &state.csrf,
        html! {
            (form_messages(state))
            form.form method="post" action="/admin/incidents/new" {
                (csrf_field(&state.csrf))
                label for="name" { "Title" }
                input #name name="name" type="text" required maxlength="200" value=(v.value("name"))
                    placeholder="Proof galleries load slowly";
                (status_select(v, Kind::Incident, Status::Investigating, true))
                label for="impact" { "Impact" }
                select #impact name="impact" {
                    option value="" selected[impact.is_empty()] { "From the components" }
                    @for i in Impact::ALL {
                        option value=(i.as_str()) selected[impact == i.as_str()] { (i.as_str()) }
                    }
                }
                (component_selects(v, choices, "Not affected"))
                (note_and_buttons(v, "First note", "Open incident"))
            }
        },
    )
}

pub fn detail(
    site: &Site<'_>,
    state: &FormState,
    incident: &IncidentRecord,
    choices: &Choices,
) -> Markup {
    let v = &state.values;
    let closed = incident.status.is_closed();
    let action = format!("/admin/incidents/{}", incident.id);
    page(
        site,
        &incident.name,
        &state.csrf,
        html! {
            p { a href=(site.links.incident(incident.id)) { "Public page of this incident" } }
            (form_messages(state))
            @if incident.status != Status::Postmortem {
                h2 { "Post an update" }
                form.form method="post" action=(action) {
                    (csrf_field(&state.csrf))
                    @if closed {
                        input type="hidden" name="status" value="postmortem";
                        p { "This incident is resolved; you can add a postmortem." }
                    } @else {
                        (status_select(v, incident.kind, incident.status, true))
                        (component_selects(v, choices, "Unchanged"))
                    }
                    (note_and_buttons(v, "Note", "Post update"))
                }
            }
            @if !closed && incident.kind == Kind::Incident {
                form.inline method="post" action=(action) {
                    (csrf_field(&state.csrf))
                    input type="hidden" name="status" value="resolved";
                    input type="hidden" name="body" value="This incident has been resolved.";
                    input type="hidden" name="action" value="save";
                    button type="submit" { "Resolve now" }
                }
            }
            h2 { "Timeline" }
            ol.timeline { @for u in &incident.updates { (update_entry(site, u)) } }
            p { a.danger-link href={ (action) "/delete" } { "Delete this incident…" } }
        },
    )
}
