//! Credentials: the API bearer token, the web login (argon2id), sessions with CSRF tokens,
//! the failed-login limit, and the two lanes of password checks (strangers, and devices the
//! owner logged in from before). Secrets are compared in constant time and never logged.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::limit::{Verdict, WindowLimit, client_key};

/// A session lasts this long after its last use,
const SESSION_IDLE: Duration = Duration::from_secs(12 * 3_600);
/// and this long at most however it is used: then the owner logs in again.
pub const SESSION_MAX: Duration = Duration::from_secs(7 * 24 * 3_600);
/// At most this many failed logins per client address per [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// At most this many wrong API tokens per client address per [`FAILURE_WINDOW`]; further
/// wrong ones get 429 until the window has passed.
pub const MAX_WRONG_TOKENS: usize = 10;
/// Client addresses remembered by the failure counts at most.
const CLIENTS_REMEMBERED: usize = 10_000;

/// Random bytes as hex, for session ids and CSRF tokens.
pub fn random_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the OS random generator failed: {e}"))?;
    Ok(hex::encode(bytes))
}

/// Constant-time equality of two secrets.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Checks an `Authorization: Bearer …` token against the configured SHA-256.
pub fn bearer_matches(header: Option<&str>, expected_sha256: Option<&[u8; 32]>) -> bool {
    let (Some(header), Some(expected)) = (header, expected_sha256) else {
        return false;
    };
    // The scheme name is case-insensitive (RFC 9110 §11.1).
    let Some((scheme, token)) = header.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return false;
    }
    let token = token.trim();
    let digest = Sha256::digest(token.as_bytes());
    same_secret(&digest, expected)
}

/// An argon2id PHC string for `signalfire hash-password`.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

/// Password hashes asking for more memory than this are refused (`check-config` says so): a
/// login must not be able to take the box's memory.
pub const MAX_PASSWORD_MEMORY_KIB: u32 = 256 * 1024;

/// Argon2's working memory is allocated at least this large (34 MiB), so that the allocator
/// maps it fresh and gives it back to the system when the check ends: glibc serves and keeps
/// smaller blocks from its heaps, which made every failed login leave ~19 MiB behind. Only the
/// blocks argon2 touches become resident.
const RETURNED_MEMORY_BLOCKS: usize = 34 * 1024;

/// True when `password` matches the PHC string. Slow on purpose: call off the executor, a
/// bounded number at a time ([`Sessions::verification_permit`]).
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    if params.m_cost() > MAX_PASSWORD_MEMORY_KIB {
        return false;
    }
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    let mut memory = Vec::with_capacity(blocks.max(RETURNED_MEMORY_BLOCKS));
    memory.resize(blocks, Block::default());
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory)
        .is_ok()
        && same_secret(&out, expected.as_bytes())
}

/// Why a configured password hash cannot be used, if it cannot.
pub fn password_hash_problem(phc: &str) -> Option<String> {
    let hash = match PasswordHash::new(phc) {
        Ok(hash) => hash,
        Err(e) => return Some(format!("not a PHC string ({e})")),
    };
    if Algorithm::try_from(hash.algorithm.as_str()).is_err() {
        return Some(format!("\"{}\" is not an argon2 hash", hash.algorithm));
    }
    match Params::try_from(&hash) {
        Err(e) => Some(format!("its parameters are not valid ({e})")),
        Ok(p) if p.m_cost() > MAX_PASSWORD_MEMORY_KIB => Some(format!(
            "it asks for {} MiB per login check, more than the {} MiB allowed",
            p.m_cost() / 1024,
            MAX_PASSWORD_MEMORY_KIB / 1024
        )),
        Ok(_) if hash.salt.is_none() || hash.hash.is_none() => {
            Some("it has no salt or no hash".to_string())
        }
        Ok(_) => None,
    }
}

/// A logged-in owner.
#[derive(Debug, Clone)]
pub struct Session {
    pub csrf: String,
    started: DateTime<Utc>,
    last_used: DateTime<Utc>,
}

impl Session {
    fn live(&self, now: DateTime<Utc>) -> bool {
        let within = |since: DateTime<Utc>, limit: Duration| {
            (now - since).to_std().map_or(true, |age| age < limit)
        };
        within(self.last_used, SESSION_IDLE) && within(self.started, SESSION_MAX)
    }
}

/// Server-side sessions, keyed by the SHA-256 of the cookie value.
pub struct Sessions {
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    failures: WindowLimit<IpAddr>,
    /// Wrong API tokens per client address.
    wrong_tokens: WindowLimit<IpAddr>,
    strangers: CheckLane,
    known_devices: CheckLane,
}

/// Which lane a password check waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Anyone: a flood of guesses from many addresses waits here.
    Stranger,
    /// A browser holding a valid device cookie ([`device_cookie`]): one the owner logged in
    /// from before. Still checked, never waiting behind strangers.
    KnownDevice,
}

/// Password checks waiting or running in the strangers' lane, at most: more are shed (503 with
/// `Retry-After`) instead of queueing without bound: a guess waits for seven checks at most.
const STRANGER_QUEUE: usize = 8;
/// The same for known devices: a stolen device cookie fills this lane, never the strangers'.
const KNOWN_DEVICE_QUEUE: usize = 4;

/// One lane: a bounded queue, one argon2 check at a time (its memory bounded: at most one
/// check per lane runs, each in its own blocking thread).
struct CheckLane {
    queue: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl CheckLane {
    fn new(queue: usize) -> Self {
        Self {
            queue: Arc::new(Semaphore::new(queue)),
            running: Arc::new(Semaphore::new(1)),
        }
    }
}

/// Leave to run one password check; hold it until the check ends.
pub struct CheckPermit {
    _queued: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            sessions: Mutex::default(),
            failures: WindowLimit::new(MAX_FAILURES, FAILURE_WINDOW, CLIENTS_REMEMBERED),
            wrong_tokens: WindowLimit::new(MAX_WRONG_TOKENS, FAILURE_WINDOW, CLIENTS_REMEMBERED),
            strangers: CheckLane::new(STRANGER_QUEUE),
            known_devices: CheckLane::new(KNOWN_DEVICE_QUEUE),
        }
    }
}

/// A device cookie lasts this long after the login that set it (each login sets a fresh one).
pub const DEVICE_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3_600);

/// The MAC key of device cookies: derived from the configured password hash, so it survives
/// restarts and changing the password forgets every device. Who can read the config can make
/// a device cookie, which gives a lane and never a login.
fn device_key(password_hash: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"signalfire device cookie\0");
    h.update(password_hash.as_bytes());
    h.finalize().into()
}

fn device_mac(password_hash: &str, body: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&device_key(password_hash)).ok()?;
    mac.update(body.as_bytes());
    Some(mac)
}

/// A fresh device cookie value, set at a successful login: `<expiry>.<nonce>.<mac>`.
pub fn device_cookie(password_hash: &str, now: DateTime<Utc>) -> anyhow::Result<String> {
    let expires = now
        .timestamp()
        .saturating_add(DEVICE_LIFETIME.as_secs() as i64);
    let body = format!("{expires}.{}", &random_token()?[..32]);
    let mac = device_mac(password_hash, &body)
        .ok_or_else(|| anyhow::anyhow!("the device cookie key was refused"))?;
    Ok(format!(
        "{body}.{}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// True when `value` is a device cookie this server set and it has not expired.
pub fn known_device(password_hash: &str, value: &str, now: DateTime<Utc>) -> bool {
    let Some((body, tag)) = value.rsplit_once('.') else {
        return false;
    };
    let Some(expires) = body
        .split_once('.')
        .and_then(|(e, _)| e.parse::<i64>().ok())
    else {
        return false;
    };
    let (Ok(tag), Some(mac)) = (hex::decode(tag), device_mac(password_hash, body)) else {
        return false;
    };
    now.timestamp() < expires && mac.verify_slice(&tag).is_ok()
}

fn key(cookie: &str) -> [u8; 32] {
    Sha256::digest(cookie.as_bytes()).into()
}

impl Sessions {
    /// Starts a session; returns the cookie value.
    pub fn create(&self, now: DateTime<Utc>) -> anyhow::Result<String> {
        let cookie = random_token()?;
        let session = Session {
            csrf: random_token()?,
            started: now,
            last_used: now,
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| s.live(now));
        sessions.insert(key(&cookie), session);
        Ok(cookie)
    }

    /// The live session for a cookie value, refreshing its idle timer (never its age).
    pub fn get(&self, cookie: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let k = key(cookie);
        match sessions.get_mut(&k) {
            Some(s) if s.live(now) => {
                s.last_used = now;
                Some(s.clone())
            }
            Some(_) => {
                sessions.remove(&k);
                None
            }
            None => None,
        }
    }

    pub fn remove(&self, cookie: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key(cookie));
    }

    /// Starts a login attempt from `ip`, counted as a failure until [`Sessions::succeeded`]:
    /// so a burst of parallel attempts cannot slip past the limit. False when the address has
    /// used up its failed logins for the last minute.
    pub fn begin_attempt(&self, ip: IpAddr) -> bool {
        self.failures
            .allow(client_key(ip), Instant::now())
            .allowed()
    }

    /// Counts a wrong API token from `ip`; refused past [`MAX_WRONG_TOKENS`] a minute.
    pub fn wrong_token(&self, ip: IpAddr) -> Verdict {
        self.wrong_tokens.allow(client_key(ip), Instant::now())
    }

    /// The attempt begun by [`Sessions::begin_attempt`] succeeded: it is no failure.
    pub fn succeeded(&self, ip: IpAddr) {
        self.failures.undo(client_key(ip));
    }

    /// A place for one password check in `lane`, waiting for the check before it; `None` when
    /// the lane's queue is full (shed the attempt). The permit is owned: move it into the
    /// blocking task, so it is held until the check ends, even when the request that asked is
    /// gone.
    pub async fn check_permit(&self, lane: Lane) -> Option<CheckPermit> {
        let lane = match lane {
            Lane::Stranger => &self.strangers,
            Lane::KnownDevice => &self.known_devices,
        };
        let queued = lane.queue.clone().try_acquire_owned().ok()?;
        let running = lane.running.clone().acquire_owned().await.ok()?;
        Some(CheckPermit {
            _queued: queued,
            _running: running,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_match_their_hash_only() {
        let hash: [u8; 32] = Sha256::digest(b"s3cret").into();
        assert!(bearer_matches(Some("Bearer s3cret"), Some(&hash)));
        assert!(bearer_matches(Some("bearer s3cret"), Some(&hash)));
        assert!(!bearer_matches(Some("Bearer wrong"), Some(&hash)));
        assert!(!bearer_matches(Some("s3cret"), Some(&hash)));
        assert!(!bearer_matches(None, Some(&hash)));
        assert!(
            !bearer_matches(Some("Bearer s3cret"), None),
            "no token configured: closed"
        );
    }

    #[test]
    fn passwords_verify_against_their_hash() {
        let phc = hash_password("correct horse").expect("hash");
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &phc));
        assert!(!verify_password("wrong", &phc));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn the_sixth_failure_in_a_minute_locks_out() {
        let sessions = Sessions::default();
        let ip: IpAddr = [127, 0, 0, 1].into();
        assert!(sessions.begin_attempt(ip));
        sessions.succeeded(ip);
        for _ in 0..MAX_FAILURES {
            assert!(sessions.begin_attempt(ip), "a success does not count");
        }
        assert!(!sessions.begin_attempt(ip));
    }

    #[test]
    fn sessions_end_when_idle_and_at_their_maximum_age_however_used() {
        let sessions = Sessions::default();
        let start = Utc::now();
        let cookie = sessions.create(start).expect("random");
        let hours = |h: i64| start + chrono::Duration::hours(h);
        assert!(sessions.get(&cookie, hours(11)).is_some());
        // Used every 11 hours, it never idles out...
        let mut h = 11;
        while h + 11 < 7 * 24 {
            h += 11;
            assert!(sessions.get(&cookie, hours(h)).is_some(), "hour {h}");
        }
        // ...but it ends at seven days.
        assert!(sessions.get(&cookie, hours(7 * 24)).is_none());
        let idle = sessions.create(start).expect("random");
        assert!(
            sessions.get(&idle, hours(13)).is_none(),
            "12 h idle ends it"
        );
    }

    #[tokio::test]
    async fn a_known_device_is_checked_while_the_strangers_queue_is_full() {
        use futures_util::FutureExt;
        let sessions = Sessions::default();
        let running = sessions
            .check_permit(Lane::Stranger)
            .now_or_never()
            .flatten()
            .expect("the first runs at once");
        // The others would wait behind it: their places in the queue are taken.
        let queued: Vec<_> = (1..STRANGER_QUEUE)
            .map(|_| {
                sessions
                    .strangers
                    .queue
                    .clone()
                    .try_acquire_owned()
                    .expect("a place")
            })
            .collect();
        assert!(
            sessions
                .check_permit(Lane::Stranger)
                .now_or_never()
                .expect("shed at once")
                .is_none(),
            "a full queue sheds"
        );
        assert!(
            sessions
                .check_permit(Lane::KnownDevice)
                .now_or_never()
                .expect("not waiting behind strangers")
                .is_some(),
            "the known device's lane is free"
        );
        drop((running, queued));
        assert!(sessions.check_permit(Lane::Stranger).await.is_some());
    }

    #[test]
    fn device_cookies_are_known_until_they_expire_or_the_password_changes() {
        let now = Utc::now();
        let cookie = device_cookie("$argon2id$one", now).expect("cookie");
        assert!(known_device("$argon2id$one", &cookie, now));
        assert!(
            !known_device("$argon2id$two", &cookie, now),
            "a new password"
        );
        let later = now + chrono::Duration::from_std(DEVICE_LIFETIME).expect("days");
        assert!(!known_device("$argon2id$one", &cookie, later), "expired");
        let (body, _) = cookie.rsplit_once('.').expect("mac");
        assert!(!known_device("$argon2id$one", &format!("{body}.00"), now));
        let forged = cookie.replacen(&cookie[..1], "9", 1);
        assert!(
            !known_device("$argon2id$one", &forged, now),
            "its expiry is signed"
        );
        assert!(!known_device("$argon2id$one", "junk", now));
    }

    #[test]
    fn sessions_carry_a_csrf_token_until_removed() {
        let sessions = Sessions::default();
        let now = Utc::now();
        let cookie = sessions.create(now).expect("random");
        let s = sessions.get(&cookie, now).expect("session");
        assert_eq!(s.csrf.len(), 64);
        sessions.remove(&cookie);
        assert!(sessions.get(&cookie, now).is_none());
    }
}
