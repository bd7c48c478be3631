//! **Who the passkeys are for**: the WebAuthn relying party — its id (`WEBAUTHN_RP_ID`, by
//! default the host of `PUBLIC_URL`) and the origins whose pages may use its passkeys
//! (`WEBAUTHN_ORIGIN`, by default `PUBLIC_URL`'s origin, plus `ALLOWED_ORIGINS`).
//!
//! A relying party id is a domain name: browsers never accept an IP address (the default
//! `http://127.0.0.1:8080` is one), so such a server starts without passkeys and says so.

use std::net::IpAddr;
use std::time::Duration;

use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// The name authenticators show next to the account.
pub const RP_NAME: &str = "tokenpair";

/// The relying party as configured (validated, not yet built).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// `WEBAUTHN_RP_ID`: a domain name (or an IP address, which leaves passkeys off).
    pub id: String,
    /// `WEBAUTHN_ORIGIN`: `https://auth.example.com`, as browsers write an origin.
    pub origin: String,
    /// `ALLOWED_ORIGINS`: further origins whose pages may use the passkeys.
    pub other_origins: Vec<String>,
}

/// Why the passkey settings are refused at startup.
#[derive(Debug, thiserror::Error)]
pub enum BadRelyingParty {
    #[error(
        "WEBAUTHN_ORIGIN {0:?} must be an http or https origin, e.g. https://auth.example.com \
         (no path, query or user)"
    )]
    Origin(String),
    #[error(
        "WEBAUTHN_RP_ID {id:?} must be the host name of WEBAUTHN_ORIGIN ({origin}) or a domain \
         it belongs to (e.g. example.com for https://auth.example.com)"
    )]
    NotOfOrigin { id: String, origin: String },
}

impl RelyingParty {
    /// The settings, each defaulting to `public_origin` (`PUBLIC_URL`'s origin): the origin
    /// itself, and its host as the id.
    pub fn resolve(
        id: Option<&str>,
        origin: Option<&str>,
        public_origin: &str,
        allowed_origins: &[String],
    ) -> Result<RelyingParty, BadRelyingParty> {
        let given = origin.map(str::trim).filter(|o| !o.is_empty());
        let origin_text = given.unwrap_or(public_origin);
        let url = parse_origin(origin_text)?;
        let host = url.host_str().unwrap_or_default();
        let id = match id.map(str::trim).filter(|i| !i.is_empty()) {
            Some(id) => id.trim_end_matches('.').to_ascii_lowercase(),
            None => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        };
        Ok(RelyingParty {
            id,
            origin: url.origin().ascii_serialization(),
            other_origins: allowed_origins.to_vec(),
        })
    }

    /// The relying party of a server reached at `origin`, its host the id (tests, embedding).
    pub fn at(origin: &str) -> Result<RelyingParty, BadRelyingParty> {
        RelyingParty::resolve(None, None, origin, &[])
    }

    /// An IP address for an id: WebAuthn never accepts one, so passkeys are off.
    pub fn is_ip(&self) -> bool {
        self.id
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
    }

    /// The WebAuthn verifier, its options valid for `timeout`; `None` when the id is an IP
    /// address. On `localhost` any port counts (a `trunk serve` on another port).
    pub fn webauthn(&self, timeout: Duration) -> Result<Option<Webauthn>, BadRelyingParty> {
        if self.is_ip() {
            return Ok(None);
        }
        let origin = parse_origin(&self.origin)?;
        let not_of_origin = || BadRelyingParty::NotOfOrigin {
            id: self.id.clone(),
            origin: self.origin.clone(),
        };
        let mut builder = WebauthnBuilder::new(&self.id, &origin)
            .map_err(|_| not_of_origin())?
            .rp_name(RP_NAME)
            .timeout(timeout)
            .allow_any_port(self.id == "localhost");
        // ALLOWED_ORIGINS were checked as origins when they were read; one that still does
        // not parse names no page a browser could be on.
        for other in &self.other_origins {
            if let Ok(url) = Url::parse(other) {
                builder = builder.append_allowed_origin(&url);
            }
        }
        builder.build().map(Some).map_err(|_| not_of_origin())
    }
}

fn parse_origin(text: &str) -> Result<Url, BadRelyingParty> {
    let bad = || BadRelyingParty::Origin(text.to_owned());
    let url = Url::parse(text.trim()).map_err(|_| bad())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    plain.then_some(url).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(300);

    #[test]
    fn the_defaults_come_from_the_public_origin() {
        let rp = RelyingParty::resolve(None, None, "https://auth.example.com", &[]).unwrap();
        assert_eq!(rp.id, "auth.example.com");
        assert_eq!(rp.origin, "https://auth.example.com");
        assert!(rp.webauthn(T).unwrap().is_some());
        let rp = RelyingParty::at("http://localhost:8080").unwrap();
        assert_eq!(
            (rp.id.as_str(), rp.origin.as_str()),
            ("localhost", "http://localhost:8080")
        );
    }

    #[test]
    fn an_ip_address_leaves_passkeys_off_without_refusing_to_start() {
        for origin in [
            "http://127.0.0.1:8080",
            "http://[::1]:3000",
            "http://192.168.1.10",
        ] {
            let rp = RelyingParty::at(origin).unwrap();
            assert!(rp.is_ip(), "{origin}");
            assert!(rp.webauthn(T).unwrap().is_none(), "{origin}");
        }
    }

    #[test]
    fn explicit_settings_win_and_a_parent_domain_is_a_valid_id() {
        let rp = RelyingParty::resolve(
            Some("Example.com"),
            Some("https://auth.example.com/"),
            "http://127.0.0.1:8080",
            &["https://app.example.com".into()],
        )
        .unwrap();
        assert_eq!(rp.id, "example.com");
        assert_eq!(rp.origin, "https://auth.example.com");
        assert!(rp.webauthn(T).unwrap().is_some());
    }

    #[test]
    fn an_id_that_is_not_the_origins_domain_or_a_bad_origin_is_refused() {
        let rp = RelyingParty::resolve(
            Some("other.example"),
            Some("https://auth.example.com"),
            "",
            &[],
        )
        .unwrap();
        assert!(matches!(
            rp.webauthn(T),
            Err(BadRelyingParty::NotOfOrigin { .. })
        ));
        let rp =
            RelyingParty::resolve(Some("localhost"), None, "http://127.0.0.1:8080", &[]).unwrap();
        assert!(
            rp.webauthn(T).is_err(),
            "an IP origin cannot serve a domain id"
        );
        for bad in [
            "auth.example.com",
            "ftp://x.example",
            "https://x.example/app",
            "https://u@x.example",
        ] {
            assert!(
                matches!(
                    RelyingParty::resolve(None, Some(bad), "", &[]),
                    Err(BadRelyingParty::Origin(_))
                ),
                "{bad}"
            );
        }
    }
}
