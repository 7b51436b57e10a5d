//! What a re-rendering task knows of the change stream: how many page-changing events it has
//! heard, how many it has rendered, and whether the checker is offline. Tests and owner writes
//! wait on [`Changes::settled`] instead of sleeping.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, watch};

use crate::events::Event;

pub struct Changes {
    heard: AtomicU64,
    rendered: watch::Sender<u64>,
    wake: Notify,
    /// Someone waits for the next render (an owner's write): skip the debounce pause.
    hurry: Notify,
    offline_since: Mutex<Option<DateTime<Utc>>>,
}

impl Default for Changes {
    fn default() -> Self {
        Self {
            heard: AtomicU64::new(0),
            rendered: watch::Sender::new(0),
            wake: Notify::new(),
            hurry: Notify::new(),
            offline_since: Mutex::new(None),
        }
    }
}

impl Changes {
    /// Takes note of committed events; true when they change what the pages show.
    pub fn take_note(&self, events: &[Event]) -> bool {
        let mut changed = false;
        for event in events {
            match event {
                Event::CheckerOffline { since } => {
                    *self.offline_since.lock().unwrap_or_else(|p| p.into_inner()) = Some(*since);
                }
                Event::CheckerOnline { .. } => {
                    *self.offline_since.lock().unwrap_or_else(|p| p.into_inner()) = None;
                }
                _ => {}
            }
            changed |= event.changes_pages();
        }
        if changed {
            self.heard.fetch_add(1, Ordering::AcqRel);
            self.wake.notify_one();
        }
        changed
    }

    /// Page-changing notes heard so far: a render that starts now covers them all.
    pub fn heard(&self) -> u64 {
        self.heard.load(Ordering::Acquire)
    }

    /// Resolves when a change was heard since the last wait.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Asks for a render without an event.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Asks for the next render without its debounce pause: someone is waiting for it.
    pub fn hurry(&self) {
        self.hurry.notify_one();
    }

    /// Resolves when someone asked to hurry.
    pub async fn hurried(&self) {
        self.hurry.notified().await;
    }

    /// A render that started after `heard` notes has finished.
    pub fn rendered(&self, heard: u64) {
        self.rendered.send_if_modified(|done| {
            let newer = heard > *done;
            if newer {
                *done = heard;
            }
            newer
        });
    }

    /// Resolves once everything heard before the call has been rendered.
    pub async fn settled(&self) {
        let target = self.heard();
        let mut done = self.rendered.subscribe();
        let _ = done.wait_for(|rendered| *rendered >= target).await;
    }

    /// When the checker went offline, as the change stream last said.
    pub fn offline_since(&self) -> Option<DateTime<Utc>> {
        *self.offline_since.lock().unwrap_or_else(|p| p.into_inner())
    }
}
