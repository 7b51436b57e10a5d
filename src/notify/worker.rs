//! The notifier: sends what the outbox holds. Deliveries are grouped in lanes — one per channel,
//! a few for subscribers — and each lane runs on its own, one delivery after the other, so a
//! channel that hangs or fails holds up only itself. A restart resumes where it stopped: what
//! was pending is due at once, with the same delivery ids.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::message::{Message, Purpose};
use super::send::{self, Recipient, Senders, TIMEOUT};
use super::stage;
use crate::config::Config;
use crate::db::outbox::{self, Attempt, Due, Outcome};
use crate::db::{Db, subscribers};
use crate::domain::clock::Clock;
use crate::domain::notification::{GIVE_UP_AFTER, retry_delay};
use crate::events::{Event, Subscriber};
use crate::writer::Writer;

/// Deliveries read per lane per pass; the rest wait for the next.
const PER_LANE: usize = 500;
/// A claimed delivery is not read again for this long: a lane that runs longer keeps its
/// claims (no other lane has them), and after a crash the restart makes them due at once.
const LEASE: Duration = Duration::from_secs(600);
/// Subscribers' mails go out over this many SMTP connections at once.
const SUBSCRIBER_LANES: i64 = 4;
/// With nothing due, the notifier looks again this often anyway.
const IDLE: Duration = Duration::from_secs(60);

/// Sends the outbox. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    writer: Writer,
    clock: Arc<dyn Clock>,
    config: Arc<Config>,
    senders: Senders,
    wake: Notify,
    /// Lanes with a task running.
    busy: Mutex<HashSet<String>>,
}

/// Any change but a plain check may have written deliveries: look now.
impl Subscriber for Notifier {
    fn notify(&self, events: &[Event]) {
        if events.iter().any(|e| !e.is_routine()) {
            self.inner.wake.notify_one();
        }
    }
}

/// Marks a lane as running until dropped, and wakes the notifier when it is done.
struct LaneGuard {
    inner: Arc<Inner>,
    lane: String,
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        self.inner
            .busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.lane);
        self.inner.wake.notify_one();
    }
}

impl Notifier {
    pub fn new(
        db: Db,
        writer: Writer,
        clock: Arc<dyn Clock>,
        config: Arc<Config>,
    ) -> anyhow::Result<Self> {
        let senders = Senders::new(config.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                writer,
                clock,
                config,
                senders,
                wake: Notify::new(),
                busy: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// Look for due deliveries now (after the owner asked for a retry or a test).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Sends everything due now and returns when those sends are recorded; how tests drive
    /// deliveries with their own clock. Returns how many were attempted.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let (lanes, count, _) = self.dispatch().await?;
        for lane in lanes {
            lane.await?;
        }
        Ok(count)
    }

    /// Sends until `stop`: what was pending at start at once, then whatever falls due.
    /// `resume`: after a (re)start, what was pending is due at once — the server may have been
    /// the one that was down. Not after a reload: the previous notifier may still be sending
    /// what it claimed, and retries keep their back-off.
    pub async fn run(self, stop: CancellationToken, resume: bool) {
        if resume {
            let now = self.inner.clock.now();
            let resumed = self
                .inner
                .writer
                .run(move |tx| Ok(outbox::due_now(tx, now)?))
                .await;
            match resumed {
                Ok(n) if n > 0 => tracing::info!(deliveries = n, "resuming pending notifications"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = format!("{e:#}"), "cannot resume notifications"),
            }
        }
        loop {
            let next = match self.dispatch().await {
                Ok((_, _, next)) => next,
                Err(e) => {
                    tracing::error!(error = format!("{e:#}"), "reading the outbox failed");
                    None
                }
            };
            // Due but busy lanes wake us when they are done.
            let wait = next
                .and_then(|at| (at - self.inner.clock.now()).to_std().ok())
                .filter(|w| !w.is_zero())
                .unwrap_or(IDLE)
                .min(IDLE);
            tokio::select! {
                () = stop.cancelled() => return,
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Starts a task for every lane with due deliveries that is not running already. Returns
    /// the tasks, how many deliveries they carry, and when the next pending one of an idle
    /// lane is due (a busy lane wakes the notifier when it is done).
    async fn dispatch(
        &self,
    ) -> anyhow::Result<(Vec<JoinHandle<()>>, usize, Option<DateTime<Utc>>)> {
        let now = self.inner.clock.now();
        let busy: Vec<String> = self
            .inner
            .busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect();
        let (due, next, stored) = self
            .inner
            .db
            .read(move |c| {
                let due = outbox::due(c, now, &busy, SUBSCRIBER_LANES, PER_LANE)?;
                let mut ids: Vec<i64> = due.iter().map(|d| d.notification).collect();
                ids.sort_unstable();
                ids.dedup();
                let stored = outbox::messages(c, &ids)?;
                Ok((due, outbox::next_due(c, &busy, SUBSCRIBER_LANES)?, stored))
            })
            .await?;
        // One message is parsed once, however many deliveries carry it.
        let messages: Arc<Messages> = Arc::new(
            stored
                .into_iter()
                .filter_map(|(id, json)| Some((id, Arc::new(serde_json::from_str(&json).ok()?))))
                .collect(),
        );
        let mut lanes: BTreeMap<String, Vec<Due>> = BTreeMap::new();
        for delivery in due {
            lanes
                .entry(delivery.lane.clone())
                .or_default()
                .push(delivery);
        }
        let mut tasks = Vec::new();
        let mut count = 0;
        let mut busy = self.inner.busy.lock().unwrap_or_else(|p| p.into_inner());
        for (lane, deliveries) in lanes {
            // A lane that started while the outbox was read keeps its own.
            if !busy.insert(lane.clone()) {
                continue;
            }
            count += deliveries.len();
            let guard = LaneGuard {
                inner: self.inner.clone(),
                lane,
            };
            tasks.push(tokio::spawn(run_lane(guard, deliveries, messages.clone())));
        }
        Ok((tasks, count, next))
    }
}

/// The messages of the deliveries read, by notification id (missing: unreadable).
type Messages = HashMap<i64, Arc<Message>>;

/// One lane: claims its deliveries, then sends them one after the other, each attempt
/// recorded. A delivery changed since it was read (sent, retried by the owner) is skipped.
async fn run_lane(guard: LaneGuard, deliveries: Vec<Due>, messages: Arc<Messages>) {
    let inner = &guard.inner;
    let now = inner.clock.now();
    let lease_until = now + chrono::Duration::from_std(LEASE).unwrap_or(chrono::Duration::MAX);
    let read: Vec<(String, u32)> = deliveries
        .iter()
        .map(|d| (d.id.clone(), d.attempts))
        .collect();
    let claimed = match inner
        .writer
        .run(move |tx| Ok(outbox::claim(tx, &read, now, lease_until)?))
        .await
    {
        Ok(claimed) => claimed.into_iter().collect::<HashSet<_>>(),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "claiming deliveries failed");
            return;
        }
    };
    for delivery in deliveries {
        if !claimed.contains(&delivery.id) {
            continue;
        }
        let message = messages.get(&delivery.notification).map(Arc::as_ref);
        if let Err(e) = attempt(inner, delivery, message).await {
            tracing::error!(
                error = format!("{e:#}"),
                "recording a delivery attempt failed"
            );
        }
    }
}

/// Why a send did not succeed.
enum Failure {
    /// The receiver failed or did not answer: try again later.
    Retry(String),
    /// Trying again cannot help (the channel was removed, the message is unreadable).
    Final(String),
}

async fn attempt(inner: &Inner, due: Due, message: Option<&Message>) -> anyhow::Result<()> {
    let at = inner.clock.now();
    let started = Instant::now();
    let result = match message {
        None => Err(Failure::Final(
            "the stored message could not be read".to_string(),
        )),
        Some(message) => send(inner, &due, message, at).await,
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    // The wait before the next try counts from the end of this one.
    let ended = inner.clock.now();
    let too_old = (ended - due.created_at)
        .to_std()
        .is_ok_and(|age| age >= GIVE_UP_AFTER);
    let (outcome, status, error) = match result {
        Ok(status) => (Outcome::Delivered, Some(status), None),
        Err(Failure::Final(error)) => (Outcome::GaveUp, None, Some(error)),
        Err(Failure::Retry(error)) if too_old => (Outcome::GaveUp, None, Some(error)),
        Err(Failure::Retry(error)) => {
            let wait = chrono::Duration::from_std(retry_delay(due.attempts + 1))
                .unwrap_or(chrono::Duration::hours(1));
            (Outcome::RetryAt(ended + wait), None, Some(error))
        }
    };
    if let Some(error) = &error {
        let to = due.channel.as_deref().unwrap_or("a subscriber");
        tracing::warn!(delivery = %due.id, to, error = %error, attempt = due.attempts + 1, "a notification was not delivered");
    }
    let record = Attempt {
        at,
        status,
        error,
        duration_ms,
    };
    let id = due.id;
    inner
        .writer
        .run(move |tx| Ok(outbox::record_attempt(tx, &id, &record, outcome)?))
        .await
}

/// Sends to the delivery's recipient, within the timeout whatever the channel does.
async fn send(
    inner: &Inner,
    due: &Due,
    message: &Message,
    at: DateTime<Utc>,
) -> Result<String, Failure> {
    let token;
    let recipient = match (&due.channel, &due.subscriber) {
        (Some(id), _) if send::is_hub(id) => match send::hub_of(&inner.config, id) {
            Some(hub) => Recipient::Hub(hub),
            None => {
                return Err(Failure::Final(
                    "the hub is no longer in [feeds] websub_hubs".to_string(),
                ));
            }
        },
        (Some(id), _) => match inner.config.notify.channels.iter().find(|c| &c.id == id) {
            Some(channel) => Recipient::Channel(channel),
            None => {
                return Err(Failure::Final(format!(
                    "the channel \"{id}\" is no longer configured"
                )));
            }
        },
        (None, Some((subscriber, email))) => {
            // Each mail carries a link token of its own, made now: only its hash is stored.
            let purpose = match message.purpose {
                Purpose::Confirmation => subscribers::Purpose::Confirm,
                Purpose::Notice | Purpose::Test => subscribers::Purpose::Manage,
            };
            let subscriber = *subscriber;
            token = inner
                .writer
                .run(move |tx| Ok(stage::new_token(tx, subscriber, purpose, at)?))
                .await
                .map_err(|e| Failure::Retry(format!("cannot make the mail's link: {e:#}")))?;
            Recipient::Subscriber {
                email,
                token: &token,
            }
        }
        (None, None) => {
            return Err(Failure::Final(
                "the subscriber has unsubscribed".to_string(),
            ));
        }
    };
    // The clients time out on their own; this bounds anything they do not cover.
    let bound = TIMEOUT + Duration::from_secs(5);
    match tokio::time::timeout(bound, inner.senders.send(recipient, message, &due.id, at)).await {
        Ok(result) => result.map_err(|e| {
            if e.permanent {
                Failure::Final(e.reason)
            } else {
                Failure::Retry(e.reason)
            }
        }),
        Err(_) => Err(Failure::Retry(format!(
            "timed out after {}s",
            bound.as_secs()
        ))),
    }
}
