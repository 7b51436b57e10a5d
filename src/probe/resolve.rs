//! Name lookups for the http and tcp kinds, through the system resolver (hosts file, then DNS),
//! with one typed error, so both kinds say "DNS lookup failed" alike.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A host name that did not resolve (or resolved to nothing).
#[derive(Debug, thiserror::Error)]
#[error("DNS lookup failed")]
pub struct DnsFailed;

/// The addresses of `host:port`; IP literals need no lookup.
pub async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, DnsFailed> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| DnsFailed)?
        .collect();
    if found.is_empty() {
        return Err(DnsFailed);
    }
    Ok(found)
}

/// reqwest's resolver: the same lookup, the same error.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = lookup(&host, 0).await?;
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}
