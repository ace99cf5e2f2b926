//! Which address a request comes from: the TCP peer, or — only when the peer is a
//! trusted reverse proxy — the right-most `X-Forwarded-For` hop it did not add itself.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client's address. A peer outside `trusted` is the client, whatever headers it
/// sends (anyone can write `X-Forwarded-For`). Through trusted proxies the chain is
/// read from the right, skipping trusted hops; an unreadable hop ends the walk at the
/// last address known to be real.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer?.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    Some(client)
}

/// `203.0.113.7`, `2001:db8::1`, and the `ip:port` / `[v6]:port` forms some proxies
/// write.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// A `--trusted-proxy` value: a CIDR range, or one address.
pub fn parse_trusted_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or CIDR range (e.g. 10.0.0.0/8 or ::1)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let h = xff(&["203.0.113.7"]);
        assert_eq!(
            client_ip(Some(ip("192.0.2.1")), &h, &[]),
            Some(ip("192.0.2.1"))
        );
        let trusted = [parse_trusted_proxy("10.0.0.0/8").unwrap()];
        assert_eq!(
            client_ip(Some(ip("192.0.2.1")), &h, &trusted),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn through_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = [
            parse_trusted_proxy("10.0.0.1").unwrap(),
            parse_trusted_proxy("10.1.0.0/16").unwrap(),
        ];
        let peer = Some(ip("10.0.0.1"));
        // The left-most entry is whatever the client wrote: never believed over the
        // hop a trusted proxy saw.
        let h = xff(&["198.51.100.9, 203.0.113.7", "10.1.2.3"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("203.0.113.7")));
        // Every hop trusted: the furthest one.
        let h = xff(&["10.1.0.5"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("10.1.0.5")));
        // No header: the proxy itself.
        assert_eq!(client_ip(peer, &HeaderMap::new(), &trusted), peer);
        // Garbage stops the walk at the last real address.
        let h = xff(&["203.0.113.7, not-an-address"]);
        assert_eq!(client_ip(peer, &h, &trusted), peer);
        let h = xff(&["[2001:db8::1]:4711"]);
        assert_eq!(client_ip(peer, &h, &trusted), Some(ip("2001:db8::1")));
    }

    #[test]
    fn mapped_ipv4_peers_match_ipv4_ranges() {
        let trusted = [parse_trusted_proxy("127.0.0.0/8").unwrap()];
        let h = xff(&["203.0.113.7"]);
        assert_eq!(
            client_ip(Some(ip("::ffff:127.0.0.1")), &h, &trusted),
            Some(ip("203.0.113.7"))
        );
    }

    #[test]
    fn trusted_proxy_values_parse() {
        assert!(parse_trusted_proxy("192.168.0.0/16").is_ok());
        assert!(parse_trusted_proxy("::1").is_ok());
        assert!(parse_trusted_proxy(" 10.0.0.7 ").is_ok());
        assert!(parse_trusted_proxy("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxy("proxy.local").is_err());
    }
}
