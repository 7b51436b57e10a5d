//! The outbox: notifications (one message each) and their deliveries (that message to one
//! recipient), with every attempt. Rows are written in the transaction of the change that
//! causes them; the notifier reads what is due and records each attempt.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{from_millis, to_millis};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Pending,
    Delivered,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// Appends a notification (its message as JSON); returns its id.
pub fn insert_notification(
    conn: &Connection,
    event: &str,
    message: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO notifications (event, message, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![event, message, to_millis(now)])?;
    Ok(conn.last_insert_rowid())
}

/// One recipient of a notification.
#[derive(Debug, Clone, Copy)]
pub struct NewDelivery<'a> {
    /// The delivery id: the idempotency key of every attempt.
    pub id: &'a str,
    pub notification: i64,
    /// A `[[notify]]` channel id, or `None` for a subscriber.
    pub channel: Option<&'a str>,
    pub subscriber: Option<i64>,
    /// The subscriber's link token in this message, kept until it is sent.
    pub token: Option<&'a str>,
}

pub fn insert_delivery(
    conn: &Connection,
    d: &NewDelivery<'_>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO deliveries (id, notification_id, channel, subscriber_id, token, state,
                                 next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
    )?
    .execute(params![
        d.id,
        d.notification,
        d.channel,
        d.subscriber,
        d.token,
        to_millis(now)
    ])?;
    Ok(())
}

/// A delivery whose time has come, with what it needs to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: String,
    pub channel: Option<String>,
    pub subscriber: Option<(i64, String)>,
    pub token: Option<String>,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub event: String,
    pub message: String,
}

/// Pending deliveries due at `now`, oldest first, at most `limit`.
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: usize) -> rusqlite::Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.channel, d.subscriber_id, s.email, d.token, d.attempts, d.created_at,
                n.event, n.message
         FROM deliveries d JOIN notifications n ON n.id = d.notification_id
         LEFT JOIN subscribers s ON s.id = d.subscriber_id
         WHERE d.state = 'pending' AND d.next_attempt_at <= ?1
         ORDER BY d.next_attempt_at, d.created_at LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![to_millis(now), limit as i64], |r| {
        let subscriber = match (r.get::<_, Option<i64>>(2)?, r.get::<_, Option<String>>(3)?) {
            (Some(id), Some(email)) => Some((id, email)),
            _ => None,
        };
        Ok(Due {
            id: r.get(0)?,
            channel: r.get(1)?,
            subscriber,
            token: r.get(4)?,
            attempts: r.get(5)?,
            created_at: from_millis(r.get(6)?),
            event: r.get(7)?,
            message: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// When the next pending delivery is due, if any.
pub fn next_due(conn: &Connection) -> rusqlite::Result<Option<DateTime<Utc>>> {
    conn.query_row(
        "SELECT min(next_attempt_at) FROM deliveries WHERE state = 'pending'",
        [],
        |r| r.get::<_, Option<i64>>(0),
    )
    .map(|v| v.map(from_millis))
}

/// After a restart, what was pending is tried at once: the server, not the receiver, may have
/// been the one that was down.
pub fn due_now(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE deliveries SET next_attempt_at = ?1 WHERE state = 'pending' AND next_attempt_at > ?1",
        [to_millis(now)],
    )
}

/// One attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    /// What the receiver said (`200`, `250 OK`), when it said anything.
    pub status: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// What an attempt leaves the delivery in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    RetryAt(DateTime<Utc>),
    GaveUp,
}

/// Records an attempt and moves the delivery on. The link token goes once the delivery is
/// over either way: it is stored only while it may still be sent.
pub fn record_attempt(
    conn: &Connection,
    delivery: &str,
    attempt: &Attempt,
    outcome: Outcome,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO delivery_attempts (delivery_id, at, status, error, duration_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        delivery,
        to_millis(attempt.at),
        attempt.status,
        attempt.error,
        attempt.duration_ms
    ])?;
    let at = to_millis(attempt.at);
    let (state, next, done) = match outcome {
        Outcome::Delivered => (State::Delivered, at, Some(at)),
        Outcome::RetryAt(next) => (State::Pending, to_millis(next), None),
        Outcome::GaveUp => (State::Failed, at, Some(at)),
    };
    conn.prepare_cached(
        "UPDATE deliveries SET attempts = attempts + 1, state = ?2, next_attempt_at = ?3,
             last_error = ?4, done_at = ?5, token = CASE WHEN ?5 IS NULL THEN token END
         WHERE id = ?1",
    )?
    .execute(params![delivery, state.as_str(), next, attempt.error, done])?;
    Ok(())
}

/// The owner's "retry": a failed delivery is pending again, due now. False when there is no
/// failed delivery with this id.
pub fn retry(conn: &Connection, id: &str, now: DateTime<Utc>) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "UPDATE deliveries SET state = 'pending', next_attempt_at = ?2, done_at = NULL
         WHERE id = ?1 AND state = 'failed'",
        params![id, to_millis(now)],
    )? > 0)
}

/// A delivery as the owner sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub id: String,
    pub channel: Option<String>,
    pub subscriber: Option<String>,
    pub event: String,
    pub state: State,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    /// The message's subject.
    pub title: String,
}

fn delivery_row(r: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: r.get(0)?,
        channel: r.get(1)?,
        subscriber: r.get(2)?,
        event: r.get(3)?,
        state: State::parse(&r.get::<_, String>(4)?).unwrap_or(State::Pending),
        attempts: r.get(5)?,
        last_error: r.get(6)?,
        created_at: from_millis(r.get(7)?),
        next_attempt_at: from_millis(r.get(8)?),
        done_at: r.get::<_, Option<i64>>(9)?.map(from_millis),
        title: r.get(10)?,
    })
}

/// The newest deliveries in `state` (all states when `None`), at most `limit`.
pub fn list(
    conn: &Connection,
    state: Option<State>,
    limit: usize,
) -> rusqlite::Result<Vec<DeliveryRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.channel, s.email, n.event, d.state, d.attempts, d.last_error, d.created_at,
                d.next_attempt_at, d.done_at, coalesce(json_extract(n.message, '$.title'), '')
         FROM deliveries d JOIN notifications n ON n.id = d.notification_id
         LEFT JOIN subscribers s ON s.id = d.subscriber_id
         WHERE ?1 IS NULL OR d.state = ?1
         ORDER BY d.created_at DESC, d.rowid DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(
        params![state.map(State::as_str), limit as i64],
        delivery_row,
    )?;
    rows.collect()
}

/// The attempts of one delivery, oldest first.
pub fn attempts(conn: &Connection, delivery: &str) -> rusqlite::Result<Vec<Attempt>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at, status, error, duration_ms FROM delivery_attempts WHERE delivery_id = ?1
         ORDER BY id",
    )?;
    let rows = stmt.query_map([delivery], |r| {
        Ok(Attempt {
            at: from_millis(r.get(0)?),
            status: r.get(1)?,
            error: r.get(2)?,
            duration_ms: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// A channel's newest delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastDelivery {
    pub state: State,
    pub at: DateTime<Utc>,
    pub error: Option<String>,
}

/// Each channel's newest delivery, by channel id.
pub fn last_per_channel(conn: &Connection) -> rusqlite::Result<HashMap<String, LastDelivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.channel, d.state, d.created_at, d.last_error FROM deliveries d
         WHERE d.channel IS NOT NULL AND d.rowid = (
             SELECT max(rowid) FROM deliveries WHERE channel = d.channel)",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            LastDelivery {
                state: State::parse(&r.get::<_, String>(1)?).unwrap_or(State::Pending),
                at: from_millis(r.get(2)?),
                error: r.get(3)?,
            },
        ))
    })?;
    rows.collect()
}

/// Counts of deliveries by state.
pub fn counts(conn: &Connection) -> rusqlite::Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached("SELECT state, count(*) FROM deliveries GROUP BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Deletes deliveries that ended before `before` (with their attempts) and notifications left
/// without a delivery. Returns the deliveries deleted.
pub fn prune(conn: &Connection, before: DateTime<Utc>) -> rusqlite::Result<usize> {
    let deleted = conn.execute(
        "DELETE FROM deliveries WHERE state != 'pending' AND done_at < ?1",
        [to_millis(before)],
    )?;
    conn.execute(
        "DELETE FROM notifications WHERE NOT EXISTS
             (SELECT 1 FROM deliveries d WHERE d.notification_id = notifications.id)
           AND created_at < ?1",
        [to_millis(before)],
    )?;
    Ok(deleted)
}

/// One delivery's state, for tests and the owner API.
pub fn state_of(conn: &Connection, id: &str) -> rusqlite::Result<Option<State>> {
    conn.query_row("SELECT state FROM deliveries WHERE id = ?1", [id], |r| {
        r.get::<_, String>(0)
    })
    .optional()
    .map(|s| s.and_then(|s| State::parse(&s)))
}
