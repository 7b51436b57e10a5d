//! Pacing (flap damping): who hears a message, and when. An incident's mails go at most once
//! per `[subscribers] min_interval` per stream — its subscribers, and the owner's channels for
//! the poller's updates — the updates between gathered into the held notification; a monitor
//! that flaps sends the owner one "flapping" alert, then a digest per `[incidents] flap_window`.
//! The rules are pure (`domain::policy::pace`, `flap_alert`); this writes their outcome in the
//! transaction of the change, so a crash loses or repeats nothing, and delivery ids never change.

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::digest;
use super::message::{Message, Planned};
use crate::config::Config;
use crate::db::outbox::{self, NewDelivery};
use crate::db::pacing;
use crate::db::subscribers;
use crate::domain::notification::EventKind;
use crate::domain::policy::{self, Alert, Pace};
use crate::events::Event;

/// The OS random generator failed: an error the writer can carry.
pub(super) fn no_randomness(e: anyhow::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(e.into())
}

/// 128 random bits as hex.
fn random_hex() -> rusqlite::Result<String> {
    crate::auth::random_token()
        .map(|t| t[..32].to_string())
        .map_err(no_randomness)
}

/// A new delivery id (`msg_` and 128 random bits): the idempotency key of every attempt.
pub fn delivery_id() -> rusqlite::Result<String> {
    Ok(format!("msg_{}", random_hex()?))
}

pub(super) fn to_json(message: &Message) -> rusqlite::Result<String> {
    serde_json::to_string(message).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

pub(super) fn notification(
    conn: &Connection,
    message: &Message,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    outbox::insert_notification(conn, message.event.as_str(), &to_json(message)?, now)
}

/// The owner's channels and the subscribers a message goes to, before pacing.
struct Recipients {
    channels: Vec<String>,
    subscribers: Vec<i64>,
}

impl Recipients {
    fn is_empty(&self) -> bool {
        self.channels.is_empty() && self.subscribers.is_empty()
    }

    fn only_channels(&self) -> Self {
        Self {
            channels: self.channels.clone(),
            subscribers: Vec::new(),
        }
    }

    fn only_subscribers(&self) -> Self {
        Self {
            channels: Vec::new(),
            subscribers: self.subscribers.clone(),
        }
    }
}

fn recipients(
    conn: &Connection,
    config: &Config,
    planned: &Planned,
) -> rusqlite::Result<Recipients> {
    let message = &planned.message;
    let channels = config
        .notify
        .channels
        .iter()
        .filter(|c| c.hears(message.event, &message.components))
        .map(|c| c.id.clone())
        .collect();
    let subscribers = if config.notify.subscribers && message.event.for_subscribers() {
        subscribers::recipients(conn, &planned.rows)?
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    } else {
        Vec::new()
    };
    Ok(Recipients {
        channels,
        subscribers,
    })
}

/// Everyone who hears the event, paced (flap damping): an incident's mails to subscribers at
/// most one per `[subscribers] min_interval` (the poller's updates to the owner's channels
/// too), a monitor's alerts to the owner gathered into digests while it flaps. Returns how
/// many deliveries were written or joined.
pub(super) fn paced(
    conn: &Connection,
    config: &Config,
    event: &Event,
    planned: &Planned,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    let all = recipients(conn, config, planned)?;
    if all.is_empty() {
        return Ok(0);
    }
    let interval = config.notify.min_interval;
    match event {
        Event::IncidentUpdated {
            incident,
            automatic,
            ..
        } if planned.message.event == EventKind::Incident && !interval.is_zero() => {
            let urgent = !automatic;
            let mut n = 0;
            let [subscribers, channels] = crate::db::pacing::INCIDENT_AUDIENCES;
            for (audience, who) in [
                (subscribers, all.only_subscribers()),
                (channels, all.only_channels()),
            ] {
                if who.is_empty() {
                    continue;
                }
                let key = format!("incident:{incident}:{audience}");
                n += incident_stream(conn, config, &key, *incident, &who, planned, urgent, now)?;
            }
            Ok(n)
        }
        Event::MonitorChanged { monitor, .. } if !all.channels.is_empty() => {
            monitor_stream(conn, config, monitor.as_str(), &all, planned, now)
        }
        _ => {
            let notification = notification(conn, &planned.message, now)?;
            add(conn, notification, &all, now, now)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn incident_stream(
    conn: &Connection,
    config: &Config,
    key: &str,
    incident: i64,
    who: &Recipients,
    planned: &Planned,
    urgent: bool,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    let mut stream = pacing::get(conn, key)?;
    let held_until = stream.held.map(|h| h.until);
    let decision = policy::pace(
        stream.last_sent_at,
        held_until,
        urgent,
        config.notify.min_interval,
        now,
    );
    let gathered = |since| digest::gathered(conn, config, &planned.message, incident, since);
    let n = send(
        conn,
        &mut stream,
        decision,
        who,
        &planned.message,
        gathered,
        now,
    )?;
    pacing::put(conn, key, &stream)?;
    Ok(n)
}

fn monitor_stream(
    conn: &Connection,
    config: &Config,
    monitor: &str,
    all: &Recipients,
    planned: &Planned,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    let rules = config.incidents;
    let key = format!("monitor:{monitor}");
    let mut stream = pacing::get(conn, &key)?;
    let keep = rules.flap_changes as usize + 1;
    stream.changes = policy::recent_changes(
        std::mem::take(&mut stream.changes),
        now,
        rules.flap_window,
        keep,
    );
    let alert = policy::flap_alert(&stream.changes, stream.flapping, rules.flap_changes);
    stream.flapping = alert != Alert::Normal;
    let held_until = stream.held.map(|h| h.until);
    let decision = match alert {
        Alert::Normal | Alert::StartsFlapping => policy::pace(
            stream.last_sent_at,
            held_until,
            true,
            rules.flap_window,
            now,
        ),
        Alert::Digest => policy::pace(
            stream.last_sent_at,
            held_until,
            false,
            rules.flap_window,
            now,
        ),
    };
    let first = match alert {
        Alert::Normal => planned.message.clone(),
        Alert::StartsFlapping => digest::flapping(
            config,
            &planned.message,
            stream.changes.len(),
            rules.flap_window,
        ),
        Alert::Digest => digest::digest(config, &planned.message, 1, now),
    };
    let count = stream.held.map_or(1, |h| h.count + 1);
    let gathered = |since| Ok(digest::digest(config, &planned.message, count, since));
    // Subscribers never hear `monitor` events: only the owner's channels are paced here.
    let n = send(
        conn,
        &mut stream,
        decision,
        &all.only_channels(),
        &first,
        gathered,
        now,
    )?;
    pacing::put(conn, &key, &stream)?;
    Ok(n)
}

/// Carries out a pacing decision for one stream: a new notification now or held, or the held
/// one rewritten to gather this change (`gathered(since)`), and maybe sent now. Delivery ids
/// never change: a held delivery was never attempted, so its message may still change.
fn send(
    conn: &Connection,
    stream: &mut pacing::Stream,
    decision: Pace,
    who: &Recipients,
    message: &Message,
    gathered: impl Fn(DateTime<Utc>) -> rusqlite::Result<Message>,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    match (decision, stream.held) {
        (Pace::Join | Pace::JoinAndSend, Some(held)) => {
            let merged = gathered(held.from)?;
            outbox::replace_message(conn, held.notification, &to_json(&merged)?)?;
            let (channels, subscribers) = outbox::recipients_of(conn, held.notification)?;
            let new = Recipients {
                channels: who
                    .channels
                    .iter()
                    .filter(|c| !channels.contains(*c))
                    .cloned()
                    .collect(),
                subscribers: who
                    .subscribers
                    .iter()
                    .filter(|s| !subscribers.contains(*s))
                    .copied()
                    .collect(),
            };
            let n = add(conn, held.notification, &new, now, held.until)?;
            if decision == Pace::JoinAndSend {
                outbox::release(conn, held.notification, now)?;
                stream.held = None;
                stream.last_sent_at = Some(now);
            } else {
                stream.held = Some(pacing::Held {
                    count: held.count + 1,
                    ..held
                });
            }
            Ok(n)
        }
        (Pace::HoldUntil(until), _) => {
            let notification = notification(conn, message, now)?;
            stream.held = Some(pacing::Held {
                notification,
                until,
                from: message.at.min(now),
                count: 1,
            });
            stream.last_sent_at = Some(until);
            add(conn, notification, who, now, until)
        }
        _ => {
            let notification = notification(conn, message, now)?;
            stream.held = None;
            stream.last_sent_at = Some(now);
            add(conn, notification, who, now, now)
        }
    }
}

/// One delivery per recipient of `notification`, due at `due`.
fn add(
    conn: &Connection,
    notification: i64,
    who: &Recipients,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    for channel in &who.channels {
        let id = delivery_id()?;
        let delivery = NewDelivery {
            id: &id,
            notification,
            channel: Some(channel),
            subscriber: None,
        };
        outbox::insert_delivery_due(conn, &delivery, now, due)?;
    }
    for subscriber in &who.subscribers {
        let id = delivery_id()?;
        let delivery = NewDelivery {
            id: &id,
            notification,
            channel: None,
            subscriber: Some(*subscriber),
        };
        outbox::insert_delivery_due(conn, &delivery, now, due)?;
    }
    Ok(who.channels.len() + who.subscribers.len())
}
