//! signalfire patch: the bytes every HTTP/1 connection holds in its read and write buffers,
//! summed over the process, so a server can refuse new connections past a memory budget
//! ([`buffered_bytes`]).

use std::sync::atomic::{AtomicUsize, Ordering};

static BUFFERED: AtomicUsize = AtomicUsize::new(0);

/// Bytes held now by the read and write buffers of every open HTTP/1 connection (their
/// capacity: what they take from the allocator, not only what they hold).
pub fn buffered_bytes() -> usize {
    BUFFERED.load(Ordering::Relaxed)
}

/// One connection's share of [`BUFFERED`]; taken back when dropped with its connection.
#[derive(Debug, Default)]
pub(super) struct Buffered {
    reported: usize,
}

impl Buffered {
    /// The connection holds `now` bytes.
    pub(super) fn report(&mut self, now: usize) {
        if now > self.reported {
            BUFFERED.fetch_add(now - self.reported, Ordering::Relaxed);
        } else if now < self.reported {
            BUFFERED.fetch_sub(self.reported - now, Ordering::Relaxed);
        }
        self.reported = now;
    }
}

impl Drop for Buffered {
    fn drop(&mut self) {
        self.report(0);
    }
}
