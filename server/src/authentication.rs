//! **When and how the person behind a session last proved who they are** (RFC 9470): the
//! `auth_time` and `amr` of its access tokens, set at sign-in and at each re-authentication,
//! kept by every refresh — and the rule dangerous actions apply to them (`REAUTH_MAX_AGE`).

use std::time::Duration;

use crate::clock::Timestamp;

/// How the person proved who they are: a token's `amr` (RFC 8176 values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `["pwd"]`.
    Password,
    /// A passkey with user verification: `["hwk", "user"]`.
    Passkey,
}

impl Method {
    /// The `amr` claim.
    pub fn amr(self) -> &'static [&'static str] {
        match self {
            Method::Password => &["pwd"],
            Method::Passkey => &["hwk", "user"],
        }
    }

    /// As stored in `sessions.amr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Password => "pwd",
            Method::Passkey => "hwk user",
        }
    }

    /// The stored value; `NULL` (a session older than step-up) is a password sign-in.
    pub fn parse(stored: Option<&str>) -> Method {
        match stored {
            Some("hwk user") => Method::Passkey,
            _ => Method::Password,
        }
    }
}

/// A session's sign-in, or its latest re-authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authentication {
    pub at: Timestamp,
    pub method: Method,
}

impl Authentication {
    /// From a session row's `auth_time` (unix ms; `NULL` → `created_at`) and `amr`.
    pub fn stored(auth_time: i64, amr: Option<&str>) -> Authentication {
        Authentication {
            at: Timestamp(auth_time),
            method: Method::parse(amr),
        }
    }

    /// The `auth_time` claim: unix seconds.
    pub fn auth_time(self) -> u64 {
        u64::try_from(self.at.ms() / 1000).unwrap_or(0)
    }
}

/// `REAUTH_MAX_AGE`: how recent the authentication behind a dangerous action must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recency {
    pub max_age: Duration,
}

impl Recency {
    /// Whether an authentication at `auth_time` (unix seconds) is recent enough at `now`. A
    /// time in the future (another instance's clock ahead) counts as now.
    pub fn allows(self, auth_time: u64, now: Timestamp) -> bool {
        let now = u64::try_from(now.ms() / 1000).unwrap_or(0);
        now.saturating_sub(auth_time) <= self.max_age.as_secs()
    }

    /// `max_age` of the challenge: whole seconds.
    pub fn max_age_secs(self) -> u64 {
        self.max_age.as_secs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authentication_exactly_max_age_old_is_still_recent_and_one_second_more_is_not() {
        let r = Recency {
            max_age: Duration::from_secs(600),
        };
        let now = Timestamp(1_000_000_000);
        assert!(r.allows(1_000_000 - 600, now));
        assert!(!r.allows(1_000_000 - 601, now));
        assert!(r.allows(1_000_000 + 30, now), "a clock ahead counts as now");
    }

    #[test]
    fn stored_amr_round_trips_and_unknown_or_missing_means_password() {
        for m in [Method::Password, Method::Passkey] {
            assert_eq!(Method::parse(Some(m.as_str())), m);
        }
        assert_eq!(Method::parse(None), Method::Password);
        assert_eq!(Method::parse(Some("otp")), Method::Password);
        assert_eq!(Method::Passkey.amr(), ["hwk", "user"]);
    }
}
