//! Connections, bounded: a client address holds at most `max_connections_per_client` at once
//! (a trusted proxy is many clients, and is not counted), and every accepted socket gets a
//! write deadline, so a client that never reads its answers is dropped instead of held.

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

/// What a refused connection is told before it is closed.
const REFUSAL: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 10\r\nConnection: close\r\nContent-Length: 48\r\n\r\nToo many connections from your address at once.\n";

/// Open connections per client address.
pub struct Connections {
    per_client: usize,
    /// Data sent but not acknowledged (a client that stopped reading keeps its window shut)
    /// for this long ends the connection: the kernel's `TCP_USER_TIMEOUT`.
    write_deadline: Duration,
    trusted: Vec<IpNet>,
    open: Mutex<HashMap<IpAddr, usize>>,
    refused: AtomicU64,
    /// One log line per client and minute, however many connections it tries.
    logged: WindowLimit<IpAddr>,
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
    pub fn new(per_client: usize, trusted: Vec<IpNet>, write_deadline: Duration) -> Self {
        Self {
            per_client,
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

    /// Counts a connection from `client`; `None` when it already holds its share.
    fn admit(self: &Arc<Self>, client: IpAddr) -> Option<Held> {
        let client = client_key(client);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(client).or_insert(0);
        if *n >= self.per_client {
            return None;
        }
        *n += 1;
        Some(Held {
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
            Some(held) => {
                data.insert(held);
            }
            None => {
                self.refused.fetch_add(1, Ordering::Relaxed);
                if self
                    .logged
                    .allow(client_key(peer), Instant::now())
                    .allowed()
                {
                    tracing::warn!(
                        client = %peer,
                        limit = self.per_client,
                        "refusing connections: this client holds its share already"
                    );
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

    #[test]
    fn a_client_gets_its_share_and_gets_it_back() {
        let connections = Arc::new(Connections::new(2, Vec::new(), Duration::from_secs(30)));
        let ip: IpAddr = [192, 0, 2, 1].into();
        let a = connections.admit(ip).expect("first");
        let _b = connections.admit(ip).expect("second");
        assert!(connections.admit(ip).is_none(), "the third waits");
        assert!(
            connections.admit([192, 0, 2, 2].into()).is_some(),
            "others get theirs"
        );
        drop(a);
        assert!(
            connections.admit(ip).is_some(),
            "a closed one frees its place"
        );
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
