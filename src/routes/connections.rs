//! Connections, bounded: a client address holds at most `max_connections_per_client` at once
//! (a trusted proxy is many clients, and is not counted), and every accepted socket gets a
//! write deadline, so a client that never reads its answers is dropped instead of held.
//!
//! Many addresses together are bounded too. The last [`Connections::reserve`] of the
//! connection budget, and every connection while the connections' buffers hold more than
//! [`MEMORY_BUDGET`], go only to addresses holding fewer than [`LIGHT`] connections: a flood
//! from many addresses, each holding many, is refused there (a short 429, so the accept loop
//! never stops), and a visitor's `/`, `/healthz` or `/admin` still gets a connection.

use std::any::Any;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use ipnet::IpNet;

use super::client;
use crate::domain::limit::{WindowLimit, client_key};

/// Bytes the read and write buffers of every open connection hold now (the patched
/// dispatcher counts them: vendor/README.md).
pub fn buffered_bytes() -> usize {
    actix_http::h1::buffered_bytes()
}

/// Answer bytes a connection gathers before it writes them (actix's default is 32 KiB): what
/// a client that never reads can leave in our memory besides one chunk of the answer, so kept
/// small; the kernel's send buffer does the batching.
pub const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// The connection budget's share kept for light addresses: an eighth, at least this many.
const MIN_RESERVE: usize = 8;

/// Under pressure (the reserve reached, or the memory budget), an address holding this many
/// connections already is refused more: a visitor's browser opens a few at once (bench/attack.sh's
/// prober, a fresh connection every 200 ms for `/` and `/healthz`, was refused at 2), a flood
/// holds many.
pub const LIGHT: usize = 4;

/// The connections' read and write buffers may hold this much before heavy addresses are
/// refused: with the connection budget, what bounds the memory a flood of connections takes.
/// The buffers are a part of it: in bench/attack.sh's pipelining flood the 64 MiB first tried
/// was reached at ~4,000 connections (~17 KiB of buffers each) with RSS at 264 MiB, the rest
/// being each connection's other state and the allocator's.
pub const MEMORY_BUDGET: usize = 32 * 1024 * 1024;

/// What a refused connection is told before it is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\nConnection: close\r\nContent-Length: 48\r\n\r\nToo many connections from your address at once.\n";

/// Open connections per client address.
pub struct Connections {
    per_client: usize,
    /// Connections open at once from all addresses, at most.
    budget: usize,
    /// Bytes the connections' buffers hold now ([`buffered_bytes`]; a stand-in in tests).
    buffered: fn() -> usize,
    /// Data sent but not acknowledged (a client that stopped reading keeps its window shut)
    /// for this long ends the connection: the kernel's `TCP_USER_TIMEOUT`.
    write_deadline: Duration,
    trusted: Vec<IpNet>,
    open: Mutex<HashMap<IpAddr, usize>>,
    refused: AtomicU64,
    /// One log line per client and minute, however many connections it tries.
    logged: WindowLimit<IpAddr>,
}

/// Why a connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Its address holds `max_connections_per_client`.
    Share,
    /// The reserve is reached or the buffers hold [`MEMORY_BUDGET`], and its address is not
    /// light.
    Pressure,
    /// Every connection of the budget is open.
    Full,
}

/// A connection being counted; dropped (with the connection) it is counted no more.
struct Held {
    connections: Arc<Connections>,
    client: IpAddr,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self
            .connections
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

impl Connections {
    /// `budget`: connections from all addresses together (the server's `max_connections`).
    pub fn new(
        per_client: usize,
        budget: usize,
        trusted: Vec<IpNet>,
        write_deadline: Duration,
    ) -> Self {
        Self {
            per_client,
            budget,
            buffered: buffered_bytes,
            write_deadline,
            trusted,
            open: Mutex::new(HashMap::new()),
            refused: AtomicU64::new(0),
            logged: WindowLimit::new(1, Duration::from_secs(60), 1_000),
        }
    }

    /// Connections refused so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The connection slots only light addresses (below [`LIGHT`]) may take.
    pub fn reserve(&self) -> usize {
        (self.budget / 8).max(MIN_RESERVE).min(self.budget / 2)
    }

    /// Counts a connection from `client`, or says why not.
    fn admit(self: &Arc<Self>, client: IpAddr) -> Result<Held, Refusal> {
        let client = client_key(client);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let total: usize = open.values().sum();
        let n = open.get(&client).copied().unwrap_or(0);
        if n >= self.per_client {
            return Err(Refusal::Share);
        }
        if total >= self.budget {
            return Err(Refusal::Full);
        }
        let pressure = total >= self.budget - self.reserve() || (self.buffered)() >= MEMORY_BUDGET;
        if pressure && n >= LIGHT {
            return Err(Refusal::Pressure);
        }
        *open.entry(client).or_insert(0) += 1;
        Ok(Held {
            connections: self.clone(),
            client,
        })
    }

    /// actix's `on_connect` hook: sets the write deadline, and counts the connection or
    /// refuses it (a short 429, then closed).
    pub fn on_connect(self: &Arc<Self>, conn: &dyn Any, data: &mut Extensions) {
        let Some(stream) = conn.downcast_ref::<TcpStream>() else {
            return;
        };
        let socket = socket2::SockRef::from(stream);
        if let Err(e) = socket.set_tcp_user_timeout(Some(self.write_deadline)) {
            tracing::debug!(error = %e, "cannot set a write deadline on a connection");
        }
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        let peer = peer.ip().to_canonical();
        if client::trusted(peer, &self.trusted) {
            return;
        }
        match self.admit(peer) {
            Ok(held) => {
                data.insert(held);
            }
            Err(why) => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                if self
                    .logged
                    .allow(client_key(peer), Instant::now())
                    .allowed()
                {
                    match why {
                        Refusal::Share => tracing::warn!(
                            client = %peer,
                            limit = self.per_client,
                            "refusing connections: this client holds its share already"
                        ),
                        Refusal::Pressure => tracing::warn!(
                            client = %peer,
                            budget = self.budget,
                            reserve = self.reserve(),
                            buffered_bytes = (self.buffered)(),
                            "refusing connections: the server is near its connection or memory budget and this client holds {LIGHT} or more"
                        ),
                        Refusal::Full => tracing::warn!(
                            client = %peer,
                            budget = self.budget,
                            "refusing connections: the connection budget is used up"
                        ),
                    }
                }
                // The socket is fresh: the short answer fits its send buffer whole.
                let _ = socket.send(REFUSAL);
                let _ = socket.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connections(per_client: usize, budget: usize) -> Arc<Connections> {
        Arc::new(Connections::new(
            per_client,
            budget,
            Vec::new(),
            Duration::from_secs(30),
        ))
    }

    #[test]
    fn a_client_gets_its_share_and_gets_it_back() {
        let connections = connections(2, 1_000);
        let ip: IpAddr = [192, 0, 2, 1].into();
        let a = connections.admit(ip).expect("first");
        let _b = connections.admit(ip).expect("second");
        assert_eq!(connections.admit(ip).err(), Some(Refusal::Share));
        assert!(
            connections.admit([192, 0, 2, 2].into()).is_ok(),
            "others get theirs"
        );
        drop(a);
        assert!(
            connections.admit(ip).is_ok(),
            "a closed one frees its place"
        );
    }

    #[test]
    fn the_reserve_is_kept_for_light_addresses() {
        let connections = connections(64, 80);
        assert_eq!(connections.reserve(), 10);
        let mut held = Vec::new();
        let mut refused = 0;
        for i in 0..100u32 {
            let ip: IpAddr = [192, 0, 2, (i % 10) as u8].into();
            match connections.admit(ip) {
                Ok(h) => held.push(h),
                Err(why) => {
                    assert_eq!(why, Refusal::Pressure);
                    refused += 1;
                }
            }
        }
        assert_eq!(held.len(), 70, "ten heavy addresses stop at the reserve");
        assert_eq!(refused, 30);
        for i in 0..10u8 {
            held.push(
                connections
                    .admit([198, 51, 100, i].into())
                    .expect("a visitor"),
            );
        }
        assert_eq!(
            connections.admit([198, 51, 100, 200].into()).err(),
            Some(Refusal::Full)
        );
        held.truncate(60);
        assert!(connections.admit([198, 51, 100, 200].into()).is_ok());
    }

    #[test]
    fn past_the_memory_budget_only_light_addresses_get_in() {
        let mut c = Connections::new(64, 1_000, Vec::new(), Duration::from_secs(30));
        c.buffered = || MEMORY_BUDGET;
        let connections = Arc::new(c);
        let heavy: IpAddr = [192, 0, 2, 1].into();
        let _held: Vec<_> = (0..LIGHT)
            .map(|_| connections.admit(heavy).expect("a light address"))
            .collect();
        assert_eq!(connections.admit(heavy).err(), Some(Refusal::Pressure));
        assert!(connections.admit([192, 0, 2, 2].into()).is_ok());
    }

    #[test]
    fn the_refusal_is_a_whole_http_answer() {
        let text = std::str::from_utf8(REFUSAL).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .and_then(|n| n.parse().ok())
            .expect("length");
        assert_eq!(body.len(), length);
    }
}
