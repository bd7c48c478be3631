//! `PUBLIC_URL`: the scheme, host and port people reach the service at — the one place the
//! server learns its public origin (the CSRF `Origin` check; later DPoP's `htu` and the
//! WebAuthn origin).
//!
//! Set, it is the only own origin: the `Host` and `X-Forwarded-Host` headers of a request no
//! longer count (a DNS-rebinding page would have its own name in both). Unset, it is derived
//! from the listen address for local use, and a request's `Host`/`X-Forwarded-Host` (what
//! `trunk serve`'s proxy sets) also count.

use std::net::{IpAddr, SocketAddr};

use axum::http::Uri;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `https://auth.example.com` or `http://127.0.0.1:8080`: lowercase, no default port, no
    /// trailing slash — as browsers write `Origin`.
    origin: String,
    host: String,
    /// Set by `PUBLIC_URL` (true) or derived from the listen address (false).
    explicit: bool,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "PUBLIC_URL {0:?} must be an http or https origin as people type it, \
     e.g. https://auth.example.com or http://127.0.0.1:8080 (no path, query or user)"
)]
pub struct BadPublicUrl(pub String);

impl PublicUrl {
    pub fn parse(url: &str) -> Result<Self, BadPublicUrl> {
        let bad = || BadPublicUrl(url.to_owned());
        let uri: Uri = url.trim().parse().map_err(|_| bad())?;
        let scheme = uri.scheme_str().ok_or_else(bad)?.to_ascii_lowercase();
        let authority = uri.authority().ok_or_else(bad)?;
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(bad()),
        };
        if authority.as_str().contains('@')
            || !matches!(uri.path(), "" | "/")
            || uri.query().is_some()
            || authority.host().is_empty()
        {
            return Err(bad());
        }
        let host = authority.host().to_ascii_lowercase();
        let origin = match authority.port_u16() {
            Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
            _ => format!("{scheme}://{host}"),
        };
        Ok(PublicUrl {
            origin,
            host,
            explicit: true,
        })
    }

    /// `http://HOST:PORT` of the listen address. A loopback or unspecified address becomes
    /// `localhost`: a secure context, and — unlike any IP address — a valid WebAuthn
    /// relying-party id, so passkeys work on the demo's own URL.
    pub fn derived(addr: SocketAddr) -> Self {
        let host = match addr.ip() {
            ip if ip.is_unspecified() || ip.is_loopback() => "localhost".to_owned(),
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => format!("[{v6}]"),
        };
        PublicUrl {
            origin: format!("http://{host}:{}", addr.port()),
            host,
            explicit: false,
        }
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn is_explicit(&self) -> bool {
        self.explicit
    }

    /// `localhost`, `*.localhost`, 127.0.0.0/8 or ::1: only this machine can reach it.
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost"
            || host.ends_with(".localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_written_as_browsers_write_them() {
        let cases = [
            ("https://Auth.Example.com", "https://auth.example.com"),
            ("https://auth.example.com:443/", "https://auth.example.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://tokenpair.test:8443", "https://tokenpair.test:8443"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ];
        for (given, origin) in cases {
            assert_eq!(PublicUrl::parse(given).unwrap().origin(), origin, "{given}");
        }
    }

    #[test]
    fn anything_but_an_origin_is_refused_with_an_example() {
        for bad in [
            "auth.example.com",
            "ftp://auth.example.com",
            "https://auth.example.com/app",
            "https://auth.example.com/?x=1",
            "https://user@auth.example.com",
            "",
        ] {
            let err = PublicUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("https://auth.example.com"), "{bad}: {err}");
        }
    }

    #[test]
    fn loopback_names_and_addresses_are_recognised() {
        for local in [
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            "http://127.0.1.9",
            "http://[::1]:8080",
            "http://app.localhost",
        ] {
            assert!(PublicUrl::parse(local).unwrap().is_loopback(), "{local}");
        }
        for public in [
            "https://auth.example.com",
            "https://tokenpair.test:8443",
            "http://192.168.1.10",
        ] {
            assert!(!PublicUrl::parse(public).unwrap().is_loopback(), "{public}");
        }
    }

    #[test]
    fn the_derived_url_is_the_listen_address() {
        let d = PublicUrl::derived("0.0.0.0:8080".parse().unwrap());
        assert_eq!(d.origin(), "http://localhost:8080");
        assert!(!d.is_explicit() && d.is_loopback());
        let d = PublicUrl::derived("127.0.0.1:8080".parse().unwrap());
        assert_eq!(d.origin(), "http://localhost:8080");
        let d = PublicUrl::derived("[::1]:3000".parse().unwrap());
        assert_eq!(d.origin(), "http://localhost:3000");
        let d = PublicUrl::derived("192.168.1.10:8080".parse().unwrap());
        assert_eq!(d.origin(), "http://192.168.1.10:8080");
        assert!(!d.is_loopback());
    }
}
