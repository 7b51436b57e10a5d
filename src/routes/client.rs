//! Who is asking: the client address that rate limits and logs count by. Behind a reverse
//! proxy every connection comes from the proxy, so a proxy listed in `[server] trusted_proxies`
//! may name the client in `Forwarded` (RFC 7239) or `X-Forwarded-For`; anyone else's headers
//! are ignored, or a client could pick its own address.

use std::net::{IpAddr, Ipv4Addr};

use actix_web::HttpRequest;
use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The address a connection comes from, IPv4-mapped IPv6 written as IPv4.
pub fn peer(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
        .to_canonical()
}

/// True when `addr` is one of the trusted proxies.
pub fn trusted(addr: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|p| p.contains(&addr))
}

/// The client's address: the connection's, or, from a trusted proxy, the nearest address in
/// the forwarding headers that is not a trusted proxy itself.
pub fn address(req: &HttpRequest, proxies: &[IpNet]) -> IpAddr {
    resolve(peer(req), req.headers(), proxies)
}

fn resolve(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    // One header, never a fallback between them: nginx, Caddy and HAProxy set
    // X-Forwarded-For and pass a client's own `Forwarded` through untouched, so `Forwarded`
    // counts only when no X-Forwarded-For came (a proxy that sets only `Forwarded`).
    let hops = if headers.contains_key("x-forwarded-for") {
        values(headers, "x-forwarded-for", |hop| Some(hop.trim()))
    } else {
        values(headers, "forwarded", forwarded_for)
    };
    // Each proxy appends the address it saw: from the nearest hop outwards, the first that is
    // not a trusted proxy is the client. Whatever stands left of it was written by the client
    // and is never read; a hop that cannot be read ends the walk at the proxy before it.
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.as_deref().and_then(node_address) {
            Some(address) if trusted(address, proxies) => client = address,
            Some(address) => return address,
            None => return client,
        }
    }
    client
}

/// Every comma-separated element of every `name` header, in order, each read by `read`
/// (`None`: the element holds no address, or cannot be read).
fn values(
    headers: &HeaderMap,
    name: &str,
    read: impl Fn(&str) -> Option<&str>,
) -> Vec<Option<String>> {
    headers
        .get_all(name)
        .flat_map(|value| match value.to_str() {
            Ok(text) => text
                .split(',')
                .map(|element| read(element).map(str::to_string))
                .collect::<Vec<_>>(),
            Err(_) => vec![None],
        })
        .collect()
}

/// The `for=` node of one `Forwarded` element.
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// A node: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:8080`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (ip, _) = rest.split_once(']')?;
        return ip.parse::<IpAddr>().ok().map(|a| a.to_canonical());
    }
    let (ip, _) = node.split_once(':')?;
    ip.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn only_trusted_proxies_may_name_the_client() {
        let proxies: Vec<IpNet> = vec!["127.0.0.1/32".parse().expect("net")];
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies), ip("198.51.100.7"));
        assert_eq!(
            resolve(ip("203.0.113.9"), &h, &proxies),
            ip("203.0.113.9"),
            "a stranger's header is ignored"
        );
        assert_eq!(resolve(ip("127.0.0.1"), &h, &[]), ip("127.0.0.1"));
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        // The client forged the first entry; our proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(resolve(ip("10.0.0.1"), &h, &proxies), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_counts_only_without_x_forwarded_for_and_reads_ports_and_ipv6() {
        let proxies: Vec<IpNet> = vec!["::1/128".parse().expect("net")];
        // Behind nginx: the client's own Forwarded header passes through; nginx's XFF wins.
        let h = headers(&[
            ("forwarded", "for=\"[2001:db8::7]:4711\";proto=https"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(resolve(ip("::1"), &h, &proxies), ip("198.51.100.7"));
        let h = headers(&[("forwarded", "for=\"[2001:db8::7]:4711\";proto=https")]);
        assert_eq!(resolve(ip("::1"), &h, &proxies), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=192.0.2.60:1234, for=192.0.2.43")]);
        let proxies: Vec<IpNet> = vec![
            "192.0.2.43/32".parse().expect("net"),
            "::1/128".parse().expect("net"),
        ];
        assert_eq!(resolve(ip("::1"), &h, &proxies), ip("192.0.2.60"));
    }

    #[test]
    fn junk_a_client_writes_left_of_the_real_hop_is_never_read() {
        let proxies: Vec<IpNet> = vec!["127.0.0.1/32".parse().expect("net")];
        let h = headers(&[("x-forwarded-for", "junk, 203.0.113.5")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies), ip("203.0.113.5"));
    }

    #[test]
    fn junk_headers_leave_the_proxy_address() {
        let proxies: Vec<IpNet> = vec!["127.0.0.1/32".parse().expect("net")];
        let h = headers(&[("x-forwarded-for", "not-an-address")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies), ip("127.0.0.1"));
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &proxies), ip("127.0.0.1"));
    }
}
