//! Notifications (SPEC §7): the owner hears first, subscribers hear the rest, and nothing is
//! lost. The [`Outbox`] hook writes a notification and its deliveries in the same transaction
//! as the change that causes them; the [`Notifier`] (a subscriber of the change stream) sends
//! them, each channel in its own lane so a slow or dead one delays no other, retries with
//! backoff (10 s doubling to 1 h, given up after 24 h) and records every attempt.

mod digest;
pub mod message;
mod pace;
pub mod page;
mod reminder;
mod send;
pub mod stage;
mod worker;

pub use send::email::recipient as mail_recipient;
pub use send::{Tried, try_channels};
pub use stage::Outbox;
pub use worker::Notifier;
