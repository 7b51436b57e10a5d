//! Writing the outbox: one notification row per message, one delivery row per recipient, in
//! the transaction of the change that causes them (the [`Outbox`] hook of the writer), so a
//! notification exists if and only if its change does.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::message::{self, Message};
use super::pace::{self, no_randomness, notification};
use super::page::PageStatus;
use crate::config::Config;
use crate::db::outbox::{self, NewDelivery};
use crate::db::subscribers::{self, Purpose};
use crate::domain::clock::Clock;
use crate::events::Event;
use crate::writer::InTransaction;

/// The writer's hook: every event that tells people something becomes outbox rows.
pub struct Outbox {
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    /// The page indicator every message carries, kept as changes pass.
    page: PageStatus,
}

impl Outbox {
    pub fn new(config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        Self {
            config,
            clock,
            page: PageStatus::new(),
        }
    }

    /// How many times the page indicator was read from the whole site rather than kept.
    pub fn full_page_reads(&self) -> u64 {
        self.page.full_reads()
    }
}

impl InTransaction for Outbox {
    fn rolled_back(&self) {
        self.page.forget();
    }

    fn stage(&self, conn: &Connection, event: &Event) -> rusqlite::Result<()> {
        // Every check passes here: the common case must cost nothing.
        if event.is_routine() {
            return Ok(());
        }
        let notify = &self.config.notify;
        if notify.channels.is_empty() && !notify.subscribers && self.config.websub_hubs.is_empty() {
            return Ok(());
        }
        // Every change passes through the page's status, so it stays true for the next message.
        let now = self.clock.now();
        let indicator = self.page.after(conn, event, page_time(event, now))?;
        let hubs = !self.config.websub_hubs.is_empty() && adds_feed_item(event);
        if notify.channels.is_empty() && !notify.subscribers && !hubs {
            return Ok(());
        }
        let planned = match event {
            Event::Reminder {
                incident,
                kind,
                since,
            } => super::reminder::message(conn, &self.config, *incident, *kind, *since, now)?,
            _ => message::for_event(conn, &self.config, event, now)?,
        };
        let Some(mut planned) = planned else {
            return Ok(());
        };
        message::set_page_status(&mut planned.message, indicator);
        if planned.notify {
            pace::paced(conn, &self.config, event, &planned, now)?;
        }
        // Feeds gain the item whether or not anyone is told.
        if hubs {
            to_hubs(conn, &self.config, &planned.message, now)?;
        }
        Ok(())
    }
}

/// The moment whose page status a message carries: a monitor's change is dated by its check.
fn page_time(event: &Event, now: DateTime<Utc>) -> DateTime<Utc> {
    match event {
        Event::MonitorChanged { at, .. } => *at,
        Event::CheckerOffline { since: at } | Event::CheckerOnline { at } => *at,
        _ => now,
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

pub use super::pace::delivery_id;

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
