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
}

pub fn insert_delivery(
    conn: &Connection,
    d: &NewDelivery<'_>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO deliveries (id, notification_id, channel, subscriber_id, state,
                                 next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
    )?
    .execute(params![
        d.id,
        d.notification,
        d.channel,
        d.subscriber,
        to_millis(now)
    ])?;
    Ok(())
}

/// [`insert_delivery`], first due at `due` (a paced message held back until then).
pub fn insert_delivery_due(
    conn: &Connection,
    d: &NewDelivery<'_>,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO deliveries (id, notification_id, channel, subscriber_id, state,
                                 next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?6)",
    )?
    .execute(params![
        d.id,
        d.notification,
        d.channel,
        d.subscriber,
        to_millis(due.max(now)),
        to_millis(now)
    ])?;
    Ok(())
}

/// Rewrites a held notification's message (it gathers one more change). Its deliveries were
/// never attempted, so nobody got the old text.
pub fn replace_message(
    conn: &Connection,
    notification: i64,
    message: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE notifications SET message = ?2 WHERE id = ?1")?
        .execute(params![notification, message])?;
    Ok(())
}

/// The channels and subscribers a notification goes to.
pub fn recipients_of(
    conn: &Connection,
    notification: i64,
) -> rusqlite::Result<(Vec<String>, Vec<i64>)> {
    let mut stmt = conn.prepare_cached(
        "SELECT channel, subscriber_id FROM deliveries WHERE notification_id = ?1",
    )?;
    let rows = stmt.query_map([notification], |r| {
        Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    let (mut channels, mut subscribers) = (Vec::new(), Vec::new());
    for row in rows {
        match row? {
            (Some(c), _) => channels.push(c),
            (None, Some(s)) => subscribers.push(s),
            (None, None) => {}
        }
    }
    Ok((channels, subscribers))
}

/// A held notification goes now: its deliveries never attempted are due at `now`.
pub fn release(conn: &Connection, notification: i64, now: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = ?2
         WHERE notification_id = ?1 AND state = 'pending' AND attempts = 0 AND next_attempt_at > ?2",
    )?
    .execute(params![notification, to_millis(now)])?;
    Ok(())
}

/// The lane of a delivery, in SQL: its channel, or one of the subscribers' lanes, whose count
/// is parameter `?{lanes}`.
fn lane_sql(lanes: usize) -> String {
    format!(
        "CASE WHEN d.channel IS NOT NULL THEN 'channel:' || d.channel
              ELSE 'subscribers:' || (d.subscriber_id % ?{lanes}) END"
    )
}

/// A delivery whose time has come, with what it needs to be sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub id: String,
    /// Deliveries of one lane are sent one after the other.
    pub lane: String,
    pub channel: Option<String>,
    pub subscriber: Option<(i64, String)>,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// The notification it delivers: its message is read once for all its deliveries.
    pub notification: i64,
}

/// Pending deliveries due at `now` in lanes not in `busy`, oldest first, at most `per_lane` of
/// each lane: a long queue in one lane never hides another lane's deliveries.
pub fn due(
    conn: &Connection,
    now: DateTime<Utc>,
    busy: &[String],
    subscriber_lanes: i64,
    per_lane: usize,
) -> rusqlite::Result<Vec<Due>> {
    let lane = lane_sql(3);
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id, lane, channel, subscriber_id, email, attempts, created_at, notification_id FROM (
             SELECT d.id, {lane} AS lane, d.channel, d.subscriber_id, s.email, d.attempts,
                    d.created_at, d.notification_id, d.next_attempt_at,
                    row_number() OVER (PARTITION BY {lane} ORDER BY d.next_attempt_at, d.rowid) AS n
             FROM deliveries d
             LEFT JOIN subscribers s ON s.id = d.subscriber_id
             WHERE d.state = 'pending' AND d.next_attempt_at <= ?1)
         WHERE n <= ?4 AND lane NOT IN (SELECT value FROM json_each(?2))
         ORDER BY next_attempt_at"
    ))?;
    let busy = serde_json::to_string(busy).unwrap_or_else(|_| "[]".to_string());
    let rows = stmt.query_map(
        params![to_millis(now), busy, subscriber_lanes, per_lane as i64],
        |r| {
            let subscriber = match (r.get::<_, Option<i64>>(3)?, r.get::<_, Option<String>>(4)?) {
                (Some(id), Some(email)) => Some((id, email)),
                _ => None,
            };
            Ok(Due {
                id: r.get(0)?,
                lane: r.get(1)?,
                channel: r.get(2)?,
                subscriber,
                attempts: r.get(5)?,
                created_at: from_millis(r.get(6)?),
                notification: r.get(7)?,
            })
        },
    )?;
    rows.collect()
}

/// The stored messages (JSON) of these notifications, by id.
pub fn messages(conn: &Connection, ids: &[i64]) -> rusqlite::Result<HashMap<i64, String>> {
    let mut stmt = conn.prepare_cached("SELECT message FROM notifications WHERE id = ?1")?;
    let mut out = HashMap::with_capacity(ids.len());
    for &id in ids {
        if let Some(message) = stmt.query_row([id], |r| r.get(0)).optional()? {
            out.insert(id, message);
        }
    }
    Ok(out)
}

/// When the next pending delivery of a lane not in `busy` is due, if any.
pub fn next_due(
    conn: &Connection,
    busy: &[String],
    subscriber_lanes: i64,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let busy = serde_json::to_string(busy).unwrap_or_else(|_| "[]".to_string());
    let lane = lane_sql(2);
    conn.prepare_cached(&format!(
        "SELECT min(d.next_attempt_at) FROM deliveries d
         WHERE d.state = 'pending' AND {lane} NOT IN (SELECT value FROM json_each(?1))"
    ))?
    .query_row(params![busy, subscriber_lanes], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .map(|v| v.map(from_millis))
}

/// Claims deliveries for sending until `lease_until`: only those still pending, due and
/// attempted exactly as often as when they were read. Returns the ids claimed — the others
/// were sent or changed meanwhile and must not be sent again.
pub fn claim(
    conn: &Connection,
    read: &[(String, u32)],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE deliveries SET next_attempt_at = ?4
         WHERE id = ?1 AND attempts = ?2 AND state = 'pending' AND next_attempt_at <= ?3",
    )?;
    let mut claimed = Vec::with_capacity(read.len());
    for (id, attempts) in read {
        if stmt.execute(params![
            id,
            attempts,
            to_millis(now),
            to_millis(lease_until)
        ])? > 0
        {
            claimed.push(id.clone());
        }
    }
    Ok(claimed)
}

/// After a restart, what was pending is tried at once: the server, not the receiver, may have
/// been the one that was down.
pub fn due_now(conn: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        // Not a paced message held back (never attempted, due later): its time is its own.
        "UPDATE deliveries SET next_attempt_at = ?1
         WHERE state = 'pending' AND next_attempt_at > ?1 AND attempts > 0",
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

/// Records an attempt and moves the delivery on.
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
             last_error = ?4, done_at = ?5
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

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox_with_one_delivery(now: DateTime<Utc>) -> Connection {
        let mut conn = Connection::open_in_memory().expect("memory db");
        super::super::migrations::migrate(&mut conn).expect("migrate");
        let notification = insert_notification(&conn, "incident", "{}", now).expect("notification");
        let delivery = NewDelivery {
            id: "msg_1",
            notification,
            channel: Some("hooks"),
            subscriber: None,
        };
        insert_delivery(&conn, &delivery, now).expect("delivery");
        conn
    }

    #[test]
    fn a_restart_makes_retries_due_at_once_but_keeps_a_held_messages_time() {
        let now = from_millis(1_800_000_000_000);
        let later = now + chrono::Duration::minutes(10);
        let conn = outbox_with_one_delivery(now);
        let attempt = Attempt {
            at: now,
            status: None,
            error: Some("HTTP 500".into()),
            duration_ms: 3,
        };
        record_attempt(&conn, "msg_1", &attempt, Outcome::RetryAt(later)).expect("record");
        let notification = insert_notification(&conn, "incident", "{}", now).expect("held");
        let held = NewDelivery {
            id: "msg_2",
            notification,
            channel: Some("mail"),
            subscriber: None,
        };
        insert_delivery_due(&conn, &held, now, later).expect("delivery");
        assert_eq!(due_now(&conn, now).expect("resume"), 1, "the retry only");
        let ids: Vec<String> = due(&conn, now, &[], 4, 10)
            .expect("due")
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(ids, vec!["msg_1"]);
        release(&conn, notification, now).expect("release");
        assert_eq!(due(&conn, now, &[], 4, 10).expect("due").len(), 2);
    }

    #[test]
    fn a_claimed_delivery_is_not_due_again_nor_claimed_twice() {
        let now = from_millis(1_800_000_000_000);
        let lease = now + chrono::Duration::minutes(10);
        let conn = outbox_with_one_delivery(now);
        let due_now = due(&conn, now, &[], 4, 10).expect("due");
        assert_eq!(due_now.len(), 1);
        assert_eq!(due_now[0].lane, "channel:hooks");
        assert_eq!(
            due(&conn, now, &["channel:hooks".to_string()], 4, 10).expect("due"),
            vec![],
            "a busy lane is left alone"
        );
        let read = vec![("msg_1".to_string(), 0)];
        assert_eq!(
            claim(&conn, &read, now, lease).expect("claim"),
            vec!["msg_1"]
        );
        assert_eq!(due(&conn, now, &[], 4, 10).expect("due"), vec![]);
        assert_eq!(
            claim(&conn, &read, now, lease).expect("claim"),
            Vec::<String>::new()
        );
        let attempt = Attempt {
            at: now,
            status: None,
            error: Some("HTTP 500".into()),
            duration_ms: 3,
        };
        record_attempt(&conn, "msg_1", &attempt, Outcome::RetryAt(now)).expect("record");
        assert_eq!(
            claim(&conn, &read, now, lease).expect("claim"),
            Vec::<String>::new(),
            "read before that attempt: stale"
        );
        let again = vec![("msg_1".to_string(), 1)];
        assert_eq!(
            claim(&conn, &again, now, lease).expect("claim"),
            vec!["msg_1"]
        );
    }

    #[test]
    fn a_long_lane_does_not_hide_another() {
        let now = from_millis(1_800_000_000_000);
        let conn = outbox_with_one_delivery(now);
        for i in 0..5 {
            let notification = insert_notification(&conn, "incident", "{}", now).expect("n");
            let id = format!("msg_busy_{i}");
            let delivery = NewDelivery {
                id: &id,
                notification,
                channel: Some("chatty"),
                subscriber: None,
            };
            insert_delivery(&conn, &delivery, now).expect("delivery");
        }
        let lanes: Vec<String> = due(&conn, now, &[], 4, 2)
            .expect("due")
            .into_iter()
            .map(|d| d.lane)
            .collect();
        assert_eq!(lanes.iter().filter(|l| *l == "channel:chatty").count(), 2);
        assert!(lanes.contains(&"channel:hooks".to_string()));
    }
}
