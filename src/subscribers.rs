//! Subscribers (SPEC §7): clients sign up with an address and the components they care about,
//! confirm by a link (double opt-in: nothing is sent before), manage or end it by the link in
//! every mail. Tokens are random (256 bits) and only their SHA-256 is stored. Sign-ups answer
//! the same whatever the address, and are limited per client.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::Connection;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::db::subscribers::{self, Purpose, Subscriber};
use crate::domain::limit::{WindowLimit, client_key};
use crate::notify::{message, stage};

/// The longest address SMTP carries (RFC 5321: 254 in a path).
const MAX_ADDRESS: usize = 254;
/// Sign-ups a client address may make per [`SIGN_UP_WINDOW`].
const SIGN_UPS: usize = 5;
const SIGN_UP_WINDOW: Duration = Duration::from_secs(600);
/// Client addresses remembered at most; beyond, the one seen least recently is forgotten.
const CLIENTS_REMEMBERED: usize = 10_000;
/// An address gets a sign-up mail at most this often.
const RESEND_AFTER: Duration = Duration::from_secs(3_600);

/// Why an address is refused (the message names the field).
pub fn address(input: &str) -> Result<String, String> {
    let address = input.trim().to_ascii_lowercase();
    if address.is_empty() {
        return Err("email: enter your e-mail address".to_string());
    }
    if address.len() > MAX_ADDRESS {
        return Err(format!(
            "email: an address has at most {MAX_ADDRESS} characters"
        ));
    }
    match address.parse::<lettre::Address>() {
        Ok(_) if address.contains('.') => {}
        _ => return Err("email: this is not an e-mail address like name@example.com".to_string()),
    }
    // Refused now rather than accepted and then failing at every try: what the mailer itself
    // cannot send to.
    crate::notify::mail_recipient(&address).map_err(|e| format!("email: {e}"))?;
    Ok(address)
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Signs an address up and writes the mail it gets: the confirmation link, or — when it is
/// subscribed already — a note with the link to manage it. Nothing tells the caller which.
pub fn sign_up(
    conn: &Connection,
    config: &Config,
    email: &str,
    components: &[i64],
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let (id, confirmed) = subscribers::sign_up(conn, email, components, now)?;
    // One mail an hour to a mailbox at most, however often and however spelt a stranger types
    // it in (quotes, case, +tags, dots, the domain in Unicode or ASCII).
    let last = subscribers::last_mail_to_mailbox(conn, email)?;
    if last.is_some_and(|at| (now - at).to_std().is_ok_and(|age| age < RESEND_AFTER)) {
        return Ok(());
    }
    if confirmed {
        let mut note = message::confirmation(config, now);
        note.purpose = message::Purpose::Notice;
        note.title = format!("You already get updates from {}", config.page.title);
        note.text = "Someone, probably you, asked again for these updates. You get them already: nothing changed. To choose what you get, or to stop, use the link below.".to_string();
        note.html = format!("<p>{}</p>", note.text);
        stage::to_one_subscriber(conn, &note, id, now)?;
    } else {
        let confirmation = message::confirmation(config, now);
        stage::to_one_subscriber(conn, &confirmation, id, now)?;
    }
    Ok(())
}

/// What a confirmation link stands for, read without writing (a `GET` of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// No such link (mistyped, or expired).
    Unknown,
    /// Not confirmed yet.
    Pending,
    /// Confirmed already: the manage link's token.
    Done(String),
}

/// The manage token a confirmation gives, derived from the confirmation token: confirming
/// again shows the same link and stores nothing new. Whoever holds the confirmation link may
/// manage the subscription anyway (confirming shows the manage link).
fn manage_token_for(confirm: &str) -> String {
    Sha256::new()
        .chain_update(b"signalfire manage link\n")
        .chain_update(confirm.as_bytes())
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where a confirmation link stands; writes nothing.
pub fn confirmation(conn: &Connection, token: &str) -> rusqlite::Result<Confirmation> {
    let Some(subscriber) = subscribers::by_token(conn, &hash(token), Purpose::Confirm)? else {
        return Ok(Confirmation::Unknown);
    };
    let manage = manage_token_for(token);
    let kept = subscribers::by_token(conn, &hash(&manage), Purpose::Manage)?.is_some();
    Ok(if subscriber.confirmed_at.is_some() && kept {
        Confirmation::Done(manage)
    } else {
        Confirmation::Pending
    })
}

/// Confirms the subscription a confirmation token belongs to; returns the token of the manage
/// link for the page that says so. Idempotent: a second call adds no row.
pub fn confirm(
    conn: &Connection,
    token: &str,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<String>> {
    let Some(subscriber) = subscribers::by_token(conn, &hash(token), Purpose::Confirm)? else {
        return Ok(None);
    };
    subscribers::confirm(conn, subscriber.id, now)?;
    let manage = manage_token_for(token);
    subscribers::add_token_once(conn, subscriber.id, &hash(&manage), Purpose::Manage, now)?;
    Ok(Some(manage))
}

/// The confirmed subscriber a manage token belongs to.
pub fn by_manage_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<Subscriber>> {
    Ok(subscribers::by_token(conn, &hash(token), Purpose::Manage)?
        .filter(|s| s.confirmed_at.is_some()))
}

/// Changes what a subscriber follows (monitor rows; none: everything).
pub fn set_components(
    conn: &Connection,
    token: &str,
    components: &[i64],
) -> rusqlite::Result<Option<Subscriber>> {
    let Some(subscriber) = by_manage_token(conn, token)? else {
        return Ok(None);
    };
    subscribers::set_components(conn, subscriber.id, components)?;
    subscribers::get(conn, subscriber.id)
}

/// Ends a subscription (RFC 8058 one-click): the subscriber and their pending mails go.
/// Idempotent: an unknown or used token is fine too.
pub fn unsubscribe(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    match subscribers::by_token(conn, &hash(token), Purpose::Manage)? {
        Some(subscriber) => subscribers::delete(conn, subscriber.id),
        None => Ok(false),
    }
}

/// Sign-ups per client within a sliding window, in bounded memory.
pub struct SignUpLimit(WindowLimit<IpAddr>);

impl Default for SignUpLimit {
    fn default() -> Self {
        Self(WindowLimit::new(
            SIGN_UPS,
            SIGN_UP_WINDOW,
            CLIENTS_REMEMBERED,
        ))
    }
}

impl SignUpLimit {
    /// True when `client` may sign up now (and counts it).
    pub fn allow(&self, client: IpAddr) -> bool {
        self.0.allow(client_key(client), Instant::now()).allowed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_lowercased_and_checked() {
        assert_eq!(
            address("  Client@Example.COM "),
            Ok("client@example.com".to_string())
        );
        assert!(address("").is_err());
        assert!(address("not-an-address").is_err());
        assert!(address("a@b").is_err(), "a domain without a dot");
        assert!(address(&format!("{}@example.com", "a".repeat(260))).is_err());
        assert!(address("a b@example.com").is_err());
    }

    #[test]
    fn the_sixth_sign_up_in_ten_minutes_is_refused() {
        let limit = SignUpLimit::default();
        let ip: IpAddr = [192, 0, 2, 1].into();
        for _ in 0..SIGN_UPS {
            assert!(limit.allow(ip));
        }
        assert!(!limit.allow(ip));
        assert!(
            limit.allow([192, 0, 2, 2].into()),
            "others are not affected"
        );
    }
}
