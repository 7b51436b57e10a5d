//! Subscribers (clients who asked for e-mail updates), the components they follow, and the
//! tokens of their links — stored as SHA-256 only.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{from_millis, to_millis};
use crate::domain::mailbox;

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm the subscription (the double opt-in link).
    Confirm,
    /// Change the components, or unsubscribe.
    Manage,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Manage => "manage",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    pub id: i64,
    pub email: String,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Monitor ids followed; empty: every component.
    pub components: Vec<String>,
}

/// Signs up `email` (not yet confirmed) or finds it; `components` are monitor rows. Returns the
/// subscriber's id and whether it was already confirmed (then nothing changes).
pub fn sign_up(
    conn: &Connection,
    email: &str,
    components: &[i64],
    now: DateTime<Utc>,
) -> rusqlite::Result<(i64, bool)> {
    let existing: Option<(i64, Option<i64>)> = conn
        .prepare_cached("SELECT id, confirmed_at FROM subscribers WHERE email = ?1")?
        .query_row([email], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    match existing {
        Some((id, Some(_))) => Ok((id, true)),
        Some((id, None)) => {
            set_components(conn, id, components)?;
            Ok((id, false))
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO subscribers (email, mailbox, created_at) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![email, mailbox::key(email), to_millis(now)])?;
            let id = conn.last_insert_rowid();
            set_components(conn, id, components)?;
            Ok((id, false))
        }
    }
}

/// When a mail to any spelling of `email`'s mailbox (`domain::mailbox::key`) was last
/// written: the one-mail-an-hour limit of sign-ups.
/// The newest mail to any spelling of one mailbox: read on every sign-up (a stranger's POST),
/// so through indexes only (`subscribers.mailbox`, `deliveries_by_subscriber`).
pub(crate) const LAST_MAIL_TO_MAILBOX: &str =
    "SELECT max(d.created_at) FROM subscribers s JOIN deliveries d ON d.subscriber_id = s.id
     WHERE s.mailbox = ?1";

pub fn last_mail_to_mailbox(
    conn: &Connection,
    email: &str,
) -> rusqlite::Result<Option<DateTime<Utc>>> {
    conn.prepare_cached(LAST_MAIL_TO_MAILBOX)?
        .query_row([mailbox::key(email)], |r| r.get::<_, Option<i64>>(0))
        .map(|v| v.map(from_millis))
}

/// Replaces the components a subscriber follows (none: every component).
pub fn set_components(conn: &Connection, id: i64, components: &[i64]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM subscriber_components WHERE subscriber_id = ?1")?
        .execute([id])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO subscriber_components (subscriber_id, monitor_id) VALUES (?1, ?2)",
    )?;
    for row in components {
        insert.execute(params![id, row])?;
    }
    conn.prepare_cached("UPDATE subscribers SET follows_all = ?2 WHERE id = ?1")?
        .execute(params![id, components.is_empty()])?;
    Ok(())
}

/// Stores a token's hash (each mail's links carry their own token).
pub fn add_token(
    conn: &Connection,
    id: i64,
    sha256: &[u8; 32],
    purpose: Purpose,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO subscriber_tokens (token_sha256, subscriber_id, purpose, created_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![&sha256[..], id, purpose.as_str(), to_millis(now)])?;
    Ok(())
}

/// Stores a token's hash unless it is stored already (a token derived from another, made
/// again on every confirmation of the same link).
pub fn add_token_once(
    conn: &Connection,
    id: i64,
    sha256: &[u8; 32],
    purpose: Purpose,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO subscriber_tokens (token_sha256, subscriber_id, purpose, created_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![&sha256[..], id, purpose.as_str(), to_millis(now)])?;
    Ok(())
}

/// Deletes link tokens made before `before`: links in mails that old no longer work.
pub fn prune_tokens(conn: &Connection, before: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM subscriber_tokens WHERE created_at < ?1",
        [to_millis(before)],
    )
}

/// Deletes sign-ups never confirmed since before `before` (their address stays no longer).
pub fn delete_unconfirmed(conn: &Connection, before: DateTime<Utc>) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM subscribers WHERE confirmed_at IS NULL AND created_at < ?1",
        [to_millis(before)],
    )
}

/// The subscriber a token (by its hash) belongs to, for that purpose.
pub fn by_token(
    conn: &Connection,
    sha256: &[u8; 32],
    purpose: Purpose,
) -> rusqlite::Result<Option<Subscriber>> {
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT subscriber_id FROM subscriber_tokens WHERE token_sha256 = ?1 AND purpose = ?2",
        )?
        .query_row(params![&sha256[..], purpose.as_str()], |r| r.get(0))
        .optional()?;
    id.map(|id| get(conn, id)).transpose().map(Option::flatten)
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Subscriber>> {
    let found = conn
        .prepare_cached(
            "SELECT id, email, confirmed_at, created_at FROM subscribers WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(Subscriber {
                id: r.get(0)?,
                email: r.get(1)?,
                confirmed_at: r.get::<_, Option<i64>>(2)?.map(from_millis),
                created_at: from_millis(r.get(3)?),
                components: Vec::new(),
            })
        })
        .optional()?;
    found
        .map(|mut s| {
            s.components = components_of(conn, s.id)?;
            Ok(s)
        })
        .transpose()
}

fn components_of(conn: &Connection, id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.key FROM subscriber_components c JOIN monitors m ON m.id = c.monitor_id
         WHERE c.subscriber_id = ?1 ORDER BY m.position",
    )?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    rows.collect()
}

/// Confirms a subscription (idempotent).
pub fn confirm(conn: &Connection, id: i64, now: DateTime<Utc>) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE subscribers SET confirmed_at = coalesce(confirmed_at, ?2) WHERE id = ?1",
        params![id, to_millis(now)],
    )?;
    Ok(())
}

/// Removes a subscriber, their tokens and pending mails. False when there was none.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM subscribers WHERE id = ?1", [id])? > 0)
}

/// Every subscriber, newest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Subscriber>> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM subscribers ORDER BY created_at DESC, id DESC")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.into_iter()
        .filter_map(|id| get(conn, id).transpose())
        .collect()
}

/// Confirmed subscribers who follow any of `components` (monitor rows), or every component:
/// `(id, e-mail)`. With no components, every confirmed subscriber.
pub fn recipients(conn: &Connection, components: &[i64]) -> rusqlite::Result<Vec<(i64, String)>> {
    if components.is_empty() {
        let mut stmt = conn.prepare_cached(
            "SELECT id, email FROM subscribers WHERE confirmed_at IS NOT NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        return rows.collect();
    }
    // Both halves go through an index: the work is the recipients', not every subscriber's.
    let mut stmt = conn.prepare_cached(
        "SELECT s.id, s.email FROM subscribers s
             WHERE s.follows_all = 1 AND s.confirmed_at IS NOT NULL
         UNION
         SELECT s.id, s.email FROM subscriber_components c JOIN subscribers s ON s.id = c.subscriber_id
             WHERE c.monitor_id IN (SELECT value FROM json_each(?1)) AND s.confirmed_at IS NOT NULL
         ORDER BY 1",
    )?;
    let list = serde_json::to_string(components).unwrap_or_else(|_| "[]".to_string());
    let rows = stmt.query_map([list], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Confirmed subscribers per followed component id (`None`: those who follow everything).
pub fn counts(conn: &Connection) -> rusqlite::Result<Vec<(Option<String>, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.key, count(*) FROM subscriber_components c
             JOIN subscribers s ON s.id = c.subscriber_id AND s.confirmed_at IS NOT NULL
             JOIN monitors m ON m.id = c.monitor_id
         GROUP BY m.key
         UNION ALL
         SELECT NULL, count(*) FROM subscribers s WHERE s.confirmed_at IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM subscriber_components c WHERE c.subscriber_id = s.id)",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}
