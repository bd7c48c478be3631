//! How much of a client's address a security event keeps (`SECURITY_EVENT_ADDRESS`).
//!
//! The default, `truncated`, keeps the network and not the host: an IPv4 address's /24
//! ("203.0.113.0/24"), an IPv6 address's /48 — enough to tell "my ISP" from "a country away",
//! not enough to single out a household. `full` keeps the address; `none` keeps nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressPolicy {
    Full,
    #[default]
    Truncated,
    None,
}

impl AddressPolicy {
    /// What is stored for `addr` under this policy.
    pub fn keep(self, addr: IpAddr) -> Option<String> {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            v4 => v4,
        };
        match (self, addr) {
            (AddressPolicy::None, _) => None,
            (AddressPolicy::Full, a) => Some(a.to_string()),
            (AddressPolicy::Truncated, IpAddr::V4(v4)) => {
                let [a, b, c, _] = v4.octets();
                Some(format!("{}/24", Ipv4Addr::new(a, b, c, 0)))
            }
            (AddressPolicy::Truncated, IpAddr::V6(v6)) => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0);
                Some(format!("{net}/48"))
            }
        }
    }
}

impl FromStr for AddressPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "full" => Ok(AddressPolicy::Full),
            "truncated" => Ok(AddressPolicy::Truncated),
            "none" => Ok(AddressPolicy::None),
            other => Err(format!(
                "{other:?} is not an address policy: use full, truncated or none"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_keeps_the_network_not_the_host() {
        let p = AddressPolicy::Truncated;
        assert_eq!(
            p.keep("203.0.113.77".parse().unwrap()).as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            p.keep("2001:db8:aa:bb:cc::1".parse().unwrap()).as_deref(),
            Some("2001:db8:aa::/48")
        );
        assert_eq!(
            p.keep("::ffff:198.51.100.9".parse().unwrap()).as_deref(),
            Some("198.51.100.0/24")
        );
    }

    #[test]
    fn full_keeps_the_address_and_none_keeps_nothing() {
        let a: IpAddr = "203.0.113.77".parse().unwrap();
        assert_eq!(AddressPolicy::Full.keep(a).as_deref(), Some("203.0.113.77"));
        assert_eq!(AddressPolicy::None.keep(a), None);
        assert_eq!("FULL".parse(), Ok(AddressPolicy::Full));
        assert!("partial".parse::<AddressPolicy>().is_err());
    }
}
