//! The change stream: domain events, published once their transaction has committed, handed to
//! every subscriber (the page renderer, the static export, metrics; the notifier next).
//!
//! Subscribers are called synchronously on the publishing thread and must only take note (set a
//! flag, bump a counter, wake their own task): publishing never waits on a slow subscriber, and
//! no event is dropped the way a bounded broadcast channel drops them when a reader lags.

use std::sync::{Arc, RwLock};

pub use crate::domain::event::{Event, MaintenanceChange};

/// Someone who wants to hear about changes.
pub trait Subscriber: Send + Sync {
    /// Takes note of committed events, in the order they were written. Must not block.
    fn notify(&self, events: &[Event]);
}

/// The change stream; cheap to clone, every clone publishes to the same subscribers.
#[derive(Clone, Default)]
pub struct Bus {
    subscribers: Arc<RwLock<Vec<Arc<dyn Subscriber>>>>,
}

impl Bus {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a subscriber; it hears every event published from now on.
    pub fn subscribe(&self, subscriber: Arc<dyn Subscriber>) {
        self.subscribers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(subscriber);
    }

    /// Hands committed events to every subscriber.
    pub fn publish(&self, events: &[Event]) {
        if events.is_empty() {
            return;
        }
        let subscribers = self.subscribers.read().unwrap_or_else(|p| p.into_inner());
        for subscriber in subscribers.iter() {
            subscriber.notify(events);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Event>>);

    impl Subscriber for Recorder {
        fn notify(&self, events: &[Event]) {
            self.0.lock().expect("lock").extend(events.iter().cloned());
        }
    }

    #[test]
    fn every_subscriber_hears_every_event_in_order() {
        let bus = Bus::new();
        let (a, b) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
        bus.subscribe(a.clone());
        bus.subscribe(b.clone());
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("time");
        let events = [
            Event::CheckerOffline { since: at },
            Event::CheckerOnline { at },
        ];
        bus.publish(&events);
        assert_eq!(*a.0.lock().expect("lock"), events.to_vec());
        assert_eq!(*b.0.lock().expect("lock"), events.to_vec());
    }
}
