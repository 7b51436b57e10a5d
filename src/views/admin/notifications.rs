//! `GET /admin/notifications`: the channels with their last delivery and a test button,
//! deliveries waiting or failed (with the error and a retry button), the latest delivered
//! ones with their attempts, and subscriber counts per component.

use std::collections::HashMap;

use maud::{Markup, html};

use super::super::Site;
use super::{csrf_field, page};
use crate::db::outbox::{Attempt, DeliveryRow, LastDelivery};

/// One channel as the owner sees it: never its URL path or secret, only where it goes.
pub struct ChannelRow {
    pub id: String,
    pub kind: &'static str,
    pub destination: String,
    pub events: Vec<&'static str>,
    pub last: Option<LastDelivery>,
}

pub struct NotificationsView {
    pub csrf: String,
    pub channels: Vec<ChannelRow>,
    pub pending: Vec<DeliveryRow>,
    pub failed: Vec<DeliveryRow>,
    pub delivered: Vec<DeliveryRow>,
    /// Attempts of the deliveries listed, by delivery id.
    pub attempts: HashMap<String, Vec<Attempt>>,
    /// `[subscribers] email = true`.
    pub subscriptions: bool,
    /// Confirmed subscribers per component id (`None`: those who follow everything).
    pub subscribers: Vec<(Option<String>, i64)>,
}

fn to_whom(d: &DeliveryRow) -> String {
    match (&d.channel, &d.subscriber) {
        (Some(channel), _) => format!("channel {channel}"),
        (None, Some(email)) => email.clone(),
        _ => "nobody".to_string(),
    }
}

fn attempts(site: &Site<'_>, view: &NotificationsView, id: &str) -> Markup {
    html! {
        @if let Some(list) = view.attempts.get(id).filter(|l| !l.is_empty()) {
            ol.attempts {
                @for a in list {
                    li {
                        (site.local_clock(a.at)) ": "
                        @match (&a.status, &a.error) {
                            (Some(status), _) => { (status) }
                            (None, Some(error)) => { (error) }
                            _ => { "no answer" }
                        }
                        " (" (a.duration_ms) " ms)"
                    }
                }
            }
        }
    }
}

fn deliveries(
    site: &Site<'_>,
    view: &NotificationsView,
    list: &[DeliveryRow],
    empty: &str,
    retry: bool,
) -> Markup {
    html! {
        @if list.is_empty() {
            p.empty-month { (empty) }
        } @else {
            ul.history-list {
                @for d in list {
                    li {
                        span.history__name { (d.title) }
                        span.tag { (d.event) }
                        p.history__when {
                            "To " (to_whom(d)) " · written " (site.local_time(d.created_at))
                            " · " (d.attempts) " attempt" @if d.attempts != 1 { "s" }
                            @if let Some(error) = &d.last_error { " · last error: " (error) }
                        }
                        (attempts(site, view, &d.id))
                        @if retry {
                            form.inline method="post" action={ "/admin/notifications/deliveries/" (d.id) "/retry" } {
                                (csrf_field(&view.csrf))
                                button.secondary type="submit" { "Retry now" }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub fn render(site: &Site<'_>, view: &NotificationsView) -> Markup {
    let body = html! {
        h2 { "Channels" }
        @if view.channels.is_empty() {
            p.empty-month { "No [[notify]] channel is configured." }
        } @else {
            ul.history-list {
                @for c in &view.channels {
                    li {
                        span.history__name { (c.id) }
                        span.tag { (c.kind) }
                        p.history__when {
                            "To " (c.destination) " · events: " (c.events.join(", "))
                        }
                        p.history__when {
                            @match &c.last {
                                None => { "Nothing sent yet." }
                                Some(last) => {
                                    "Last: " (last.state.as_str()) ", " (site.local_time(last.at))
                                    @if let Some(error) = &last.error { " · " (error) }
                                }
                            }
                        }
                        form.inline method="post" action={ "/admin/notifications/" (c.id) "/test" } {
                            (csrf_field(&view.csrf))
                            button.secondary type="submit" { "Send a test" }
                        }
                    }
                }
            }
        }
        h2 { "Waiting" }
        (deliveries(site, view, &view.pending, "Nothing is waiting.", false))
        h2 { "Failed" }
        (deliveries(site, view, &view.failed, "Nothing failed.", true))
        h2 { "Delivered lately" }
        (deliveries(site, view, &view.delivered, "Nothing delivered yet.", false))
        h2 { "Subscribers" }
        @if !view.subscriptions {
            p.empty-month { "E-mail subscriptions are off ([subscribers] email = true turns them on)." }
        } @else if view.subscribers.iter().all(|(_, n)| *n == 0) {
            p.empty-month { "No confirmed subscriber yet." }
        } @else {
            ul {
                @for (component, count) in &view.subscribers {
                    li {
                        @match component {
                            Some(id) => { (id) }
                            None => { "Every component" }
                        }
                        ": " (count)
                    }
                }
            }
        }
    };
    page(site, "Notifications", &view.csrf, body)
}
