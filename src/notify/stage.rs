//! Writing the outbox: one notification row per message, one delivery row per recipient, in
//! the transaction of the change that causes them (the [`Outbox`] hook of the writer), so a
//! notification exists if and only if its change does.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::message::{self, Message, Planned};
use crate::config::Config;
use crate::db::outbox::{self, NewDelivery};
use crate::db::pacing;
use crate::db::subscribers::{self, Purpose};
use crate::domain::clock::Clock;
use crate::domain::notification::EventKind;
use crate::domain::policy::{self, Alert, Pace};
use crate::events::Event;
use crate::writer::InTransaction;

/// The writer's hook: every event that tells people something becomes outbox rows.
pub struct Outbox {
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
}

impl Outbox {
    pub fn new(config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        Self { config, clock }
    }
}

impl InTransaction for Outbox {
    fn stage(&self, conn: &Connection, event: &Event) -> rusqlite::Result<()> {
        // Every check passes here: the common case must cost nothing.
        if event.is_routine() {
            return Ok(());
        }
        let notify = &self.config.notify;
        let hubs = !self.config.websub_hubs.is_empty() && adds_feed_item(event);
        if notify.channels.is_empty() && !notify.subscribers && !hubs {
            return Ok(());
        }
        let now = self.clock.now();
        let Some(planned) = message::for_event(conn, &self.config, event, now)? else {
            return Ok(());
        };
        if planned.notify {
            paced(conn, &self.config, event, &planned, now)?;
        }
        // Feeds gain the item whether or not anyone is told.
        if hubs {
            to_hubs(conn, &self.config, &planned.message, now)?;
        }
        Ok(())
    }
}

/// True for the events that write an update, which every feed shows as a new item.
fn adds_feed_item(event: &Event) -> bool {
    matches!(
        event,
        Event::IncidentUpdated { .. }
            | Event::MaintenanceChanged {
                update: Some(_),
                ..
            }
    )
}

/// One delivery per WebSub hub: the publish ping naming the feeds that gained the item.
fn to_hubs(
    conn: &Connection,
    config: &Config,
    message: &Message,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let notification = notification(conn, message, now)?;
    for hub in &config.websub_hubs {
        let id = delivery_id()?;
        let channel = crate::notify::send::hub_channel(hub);
        let delivery = NewDelivery {
            id: &id,
            notification,
            channel: Some(&channel),
            subscriber: None,
        };
        outbox::insert_delivery(conn, &delivery, now)?;
    }
    Ok(())
}

/// The OS random generator failed: an error the writer can carry.
fn no_randomness(e: anyhow::Error) -> rusqlite::Error {
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

/// A subscriber's new link token (256 random bits), made when a mail is sent: only its
/// SHA-256 is stored, and the mail carries the token itself.
pub fn new_token(
    conn: &Connection,
    subscriber: i64,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> rusqlite::Result<String> {
    let token = crate::auth::random_token().map_err(no_randomness)?;
    let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
    subscribers::add_token(conn, subscriber, &hash, purpose, now)?;
    Ok(token)
}

fn to_json(message: &Message) -> rusqlite::Result<String> {
    serde_json::to_string(message).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn notification(conn: &Connection, message: &Message, now: DateTime<Utc>) -> rusqlite::Result<i64> {
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
fn paced(
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
            for (audience, who) in [
                ("subscribers", all.only_subscribers()),
                ("channels", all.only_channels()),
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
    let gathered = |since| message::gathered(conn, config, &planned.message, incident, since);
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
        Alert::StartsFlapping => message::flapping(
            config,
            &planned.message,
            stream.changes.len(),
            rules.flap_window,
        ),
        Alert::Digest => message::digest(config, &planned.message, 1, now),
    };
    let count = stream.held.map_or(1, |h| h.count + 1);
    let gathered = |since| Ok(message::digest(config, &planned.message, count, since));
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

/// One delivery to one channel (the owner's "send a test").
pub fn to_channel(
    conn: &Connection,
    message: &Message,
    channel: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<String> {
    let notification = notification(conn, message, now)?;
    let id = delivery_id()?;
    let delivery = NewDelivery {
        id: &id,
        notification,
        channel: Some(channel),
        subscriber: None,
    };
    outbox::insert_delivery(conn, &delivery, now)?;
    Ok(id)
}

/// One message to one subscriber (a confirmation). Its link token is made when it is sent.
pub fn to_one_subscriber(
    conn: &Connection,
    message: &Message,
    subscriber: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<String> {
    let notification = notification(conn, message, now)?;
    to_subscriber(conn, notification, subscriber, now)
}

fn to_subscriber(
    conn: &Connection,
    notification: i64,
    subscriber: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<String> {
    let id = delivery_id()?;
    let delivery = NewDelivery {
        id: &id,
        notification,
        channel: None,
        subscriber: Some(subscriber),
    };
    outbox::insert_delivery(conn, &delivery, now)?;
    Ok(id)
}
