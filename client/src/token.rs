//! The access token, as the client holds it in memory: the value and what the server said
//! about its lifetime and its session.

use std::fmt;
use std::time::Duration;

use crate::protocol::TokenType;
use crate::time::Instant;

/// The access token with what the server said about it.
#[derive(Clone, PartialEq)]
pub struct AccessToken {
    value: String,
    token_type: TokenType,
    lifetime: Duration,
    received_at: Instant,
    session_id: Option<String>,
    idle_expires_in: Option<Duration>,
    session_expires_in: Option<Duration>,
}

impl AccessToken {
    /// The token `value` (presented as `token_type` says), valid for `lifetime` from
    /// `received_at`, of server session `session_id`, whose idle and absolute ends are as
    /// given.
    pub(crate) fn new(
        (value, token_type): (String, TokenType),
        lifetime: Duration,
        received_at: Instant,
        session_id: Option<String>,
        (idle_expires_in, session_expires_in): (Option<Duration>, Option<Duration>),
    ) -> AccessToken {
        AccessToken {
            value,
            token_type,
            lifetime,
            received_at,
            session_id,
            idle_expires_in,
            session_expires_in,
        }
    }

    /// The token itself, for an `Authorization` header or a token inspector. Never log it or
    /// store it anywhere else.
    pub fn bearer(&self) -> &str {
        &self.value
    }

    /// Bearer, or bound to this browser's DPoP key.
    pub fn token_type(&self) -> TokenType {
        self.token_type
    }

    /// The `Authorization` header's value: `Bearer <token>` or `DPoP <token>`.
    pub fn authorization(&self) -> String {
        [self.token_type.scheme(), " ", &self.value].concat()
    }

    /// The server-side session (refresh-token family) it belongs to, if the backend says.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The lifetime the server gave it.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// When it arrived (both clocks).
    pub fn received_at(&self) -> Instant {
        self.received_at
    }

    /// The lifetime in milliseconds.
    pub fn lifetime_ms(&self) -> f64 {
        self.lifetime.as_millis() as f64
    }

    /// Milliseconds left at `now`, counted from the server's `expires_in` (see
    /// [`crate::time`]); negative once expired.
    pub fn remaining_ms(&self, now: &Instant) -> f64 {
        self.lifetime_ms() - now.since(&self.received_at)
    }

    /// Whole seconds left, rounded up, never negative.
    pub fn remaining_secs(&self, now: &Instant) -> u64 {
        (self.remaining_ms(now).max(0.0) / 1000.0).ceil() as u64
    }

    /// Milliseconds at `now` until the server session ends (idle timeout or absolute end,
    /// whichever is first), if the server said.
    pub fn session_remaining_ms(&self, now: &Instant) -> Option<f64> {
        let ends = match (self.idle_expires_in, self.session_expires_in) {
            (Some(i), Some(a)) => i.min(a),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => return None,
        };
        Some(ends.as_millis() as f64 - now.since(&self.received_at))
    }

    /// Milliseconds at `now` until the idle timeout and until the absolute end, as far as the
    /// server said.
    pub(crate) fn session_left_ms(&self, now: &Instant) -> (Option<f64>, Option<f64>) {
        let elapsed = now.since(&self.received_at);
        let left = |d: Option<Duration>| d.map(|d| d.as_millis() as f64 - elapsed);
        (left(self.idle_expires_in), left(self.session_expires_in))
    }

    /// Whole seconds until the server session ends, rounded up, never negative.
    pub fn session_remaining_secs(&self, now: &Instant) -> Option<u64> {
        self.session_remaining_ms(now)
            .map(|ms| (ms.max(0.0) / 1000.0).ceil() as u64)
    }

    /// Whether a refresh moves the end (it is the idle timeout, not the absolute end).
    pub fn session_end_is_extendable(&self) -> bool {
        match (self.idle_expires_in, self.session_expires_in) {
            (Some(i), Some(a)) => i < a,
            (Some(_), None) => true,
            _ => false,
        }
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("lifetime", &self.lifetime)
            .field("session_id", &self.session_id)
            .finish()
    }
}
