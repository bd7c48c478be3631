//! The client's address: the TCP peer, or — only when the peer is a trusted proxy
//! (`TRUSTED_PROXIES`) — the address that proxy reports in `X-Forwarded-For` or `Forwarded`.
//!
//! Every per-address limit (the sign-in and registration throttles, the Argon2 queue's slots)
//! and every log line that names an address uses this one answer (the HTTP edge's
//! [`crate::http::client_ip::ClientIp`]). Behind a proxy
//! without it, every request would come from the proxy: one attacker would lock out the site.
//!
//! The limits count an IPv6 client by its network, not its address ([`limit_key`],
//! `IPV6_CLIENT_PREFIX`, /64 by default): one subscriber usually gets a whole /64, so counting
//! single addresses would give an attacker 2⁶⁴ fresh ones.
//!
//! ## Which address
//! A forwarding header is a list, each proxy appending the address it received the request
//! from. Anything left of the first proxy we trust was written by someone we don't, so it is
//! read **from the right**: skip the addresses of trusted proxies; the first one that is not
//! trusted is the client. If every address is trusted (a client inside the trusted network),
//! the leftmost is. An entry that is not an address (`unknown`, garbage a client sent) ends the
//! walk: the last trusted hop is the client. From an untrusted peer, no header is read at all.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Which forwarding header a trusted proxy's report is read from (`CLIENT_ADDRESS_HEADER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AddressHeader {
    /// `X-Forwarded-For` when the request has one, otherwise `Forwarded`.
    #[default]
    Auto,
    /// Only `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, most proxies).
    XForwardedFor,
    /// Only RFC 7239 `Forwarded: for=…`.
    Forwarded,
}

/// The proxies whose forwarding headers are believed (`TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

#[derive(Debug, thiserror::Error)]
#[error(
    "TRUSTED_PROXIES: {0:?} is neither an IP address nor a CIDR block \
     (examples: 10.0.0.5, 10.0.0.0/8, fd00::/8)"
)]
pub struct BadProxy(pub String);

impl TrustedProxies {
    /// From `10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`; empty entries are skipped.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, BadProxy> {
        let mut nets = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            let net = match entry.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => entry
                    .parse::<IpAddr>()
                    .map(|ip| IpNet::from(ip.to_canonical()))
                    .map_err(|_| BadProxy(entry.to_owned()))?,
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// The client address of a request that arrived from `peer`.
pub fn resolve(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
    which: AddressHeader,
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(peer) {
        return peer;
    }
    let xff = || list(headers, "x-forwarded-for", Some);
    let forwarded = || list(headers, "forwarded", forwarded_for);
    let hops = match which {
        AddressHeader::XForwardedFor => xff(),
        AddressHeader::Forwarded => forwarded(),
        AddressHeader::Auto if headers.contains_key("x-forwarded-for") => xff(),
        AddressHeader::Auto => forwarded(),
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.and_then(parse_node) {
            Some(ip) if trusted.contains(ip) => client = ip,
            Some(ip) => return ip,
            None => break,
        }
    }
    client
}

/// Every element of every `name` header, in order, mapped by `pick` (None: not an address).
/// Split as bytes, so a non-ASCII element a client wrote spoils only itself, not the address
/// the proxy appended on the same line.
fn list<'a>(
    headers: &'a HeaderMap,
    name: &str,
    pick: impl Fn(&'a str) -> Option<&'a str>,
) -> Vec<Option<&'a str>> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|element| {
            std::str::from_utf8(element)
                .ok()
                .and_then(|e| pick(e.trim()))
        })
        .collect()
}

/// The `for=` parameter of one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| value.trim().trim_matches('"'))
    })
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711` → the address.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim();
    node.parse::<IpAddr>()
        .or_else(|_| node.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .or_else(|| {
            node.strip_prefix('[')
                .and_then(|n| n.strip_suffix(']'))?
                .parse()
                .ok()
        })
        .map(|ip: IpAddr| ip.to_canonical())
}

/// `ip` as the limits count it: IPv4 as is, IPv6 cut to its first `v6_prefix` bits.
pub fn limit_key(ip: IpAddr, v6_prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let bits = u32::from(v6_prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn trusted(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=198.51.100.1"),
        ]);
        for t in [trusted(&[]), trusted(&["10.0.0.0/8"])] {
            assert_eq!(
                resolve(ip("192.0.2.7"), &h, &t, AddressHeader::Auto),
                ip("192.0.2.7")
            );
        }
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let t = trusted(&["10.0.0.1", "10.1.0.0/16"]);
        // A forged first entry, the real client, then a second trusted proxy.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.2.3")]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &t, AddressHeader::Auto),
            ip("203.0.113.9")
        );
        // The same chain split over two header lines.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9, 10.1.2.3"),
        ]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &t, AddressHeader::XForwardedFor),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn all_trusted_hops_give_the_leftmost_and_garbage_stops_the_walk() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &t, AddressHeader::Auto),
            ip("10.9.9.9")
        );
        let h = headers(&[("x-forwarded-for", "203.0.113.9, not-an-ip, 10.1.1.1")]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &t, AddressHeader::Auto),
            ip("10.1.1.1")
        );
        // No header at all: the trusted peer itself.
        assert_eq!(
            resolve(ip("10.0.0.1"), &HeaderMap::new(), &t, AddressHeader::Auto),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_for_is_read_with_ports_brackets_and_quotes() {
        let t = trusted(&["10.0.0.1"]);
        let h = headers(&[(
            "forwarded",
            r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.1"#,
        )]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &t, AddressHeader::Auto),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=192.0.2.60:8080;by=10.0.0.1")]);
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &t, AddressHeader::Forwarded),
            ip("192.0.2.60")
        );
    }

    #[test]
    fn the_configured_header_is_the_only_one_read() {
        let t = trusted(&["10.0.0.1"]);
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("forwarded", "for=192.0.2.60"),
        ]);
        let pick = |which| resolve(ip("10.0.0.1"), &h, &t, which);
        assert_eq!(pick(AddressHeader::Auto), ip("6.6.6.6"));
        assert_eq!(pick(AddressHeader::XForwardedFor), ip("6.6.6.6"));
        assert_eq!(pick(AddressHeader::Forwarded), ip("192.0.2.60"));
    }

    #[test]
    fn a_non_ascii_element_spoils_only_itself() {
        let t = trusted(&["10.0.0.1"]);
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            axum::http::HeaderValue::from_bytes(b"\xff\xfe, 203.0.113.9").unwrap(),
        );
        assert_eq!(
            resolve(ip("10.0.0.1"), &h, &t, AddressHeader::Auto),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let t = trusted(&["127.0.0.1"]);
        let h = headers(&[("x-forwarded-for", "::ffff:203.0.113.9")]);
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &h, &t, AddressHeader::Auto),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_network_ipv4_by_their_address() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), 64),
            ip("2001:db8:1:2::")
        );
        assert_eq!(limit_key(ip("2001:db8:1:2::9"), 48), ip("2001:db8:1::"));
        assert_eq!(limit_key(ip("2001:db8::9"), 128), ip("2001:db8::9"));
        assert_eq!(limit_key(ip("2001:db8::9"), 0), ip("::"));
        assert_eq!(limit_key(ip("203.0.113.9"), 64), ip("203.0.113.9"));
    }

    #[test]
    fn proxies_parse_as_addresses_or_blocks_and_refuse_anything_else() {
        let t = trusted(&["10.0.0.5", " 192.168.0.0/16 ", "", "fd00::/8"]);
        assert!(t.contains(ip("10.0.0.5")) && !t.contains(ip("10.0.0.6")));
        assert!(t.contains(ip("192.168.44.1")) && t.contains(ip("fd12::1")));
        let err = TrustedProxies::parse(&["10.0.0.0/33"]).unwrap_err();
        assert!(err.to_string().contains("\"10.0.0.0/33\""), "{err}");
        assert!(TrustedProxies::parse(&["proxy.internal"]).is_err());
    }
}
