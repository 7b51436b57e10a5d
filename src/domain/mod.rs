//! Pure types and rules: no I/O, no actix, rusqlite, reqwest or maud.
//! Everything here takes values (and a `now` where time matters) and returns values.

pub mod check;
pub mod clock;
pub mod duration;
pub mod event;
pub mod heartbeat;
pub mod incident;
pub mod limit;
pub mod mailbox;
pub mod monitor;
pub mod notification;
pub mod policy;
pub mod reminder;
pub mod smtp;
pub mod status;
pub mod uptime;
pub mod window;
