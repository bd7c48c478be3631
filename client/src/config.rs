//! Every knob of the client in one struct, with defaults that suit the tokenpair server.
//!
//! ```
//! # use std::time::Duration;
//! # use tokenpair_client::ClientConfig;
//! let config = ClientConfig {
//!     request_timeout: Duration::from_secs(8),
//!     ..ClientConfig::default()
//! };
//! # let _ = config;
//! ```

use std::time::Duration;

use tokenpair_api::paths;

/// The server's endpoints. The cookie endpoints (`login`, `register`, `refresh`, `logout*`)
/// all live under [`Endpoints::auth_prefix`]; the Bearer client refuses to send anything there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// Sign in with a username and password.
    pub login: &'static str,
    /// Create an account and sign in.
    pub register: &'static str,
    /// Rotate the refresh cookie, get a new access token.
    pub refresh: &'static str,
    /// The same at page load, where "no session" is a normal outcome: the server answers 204
    /// instead of 401 when there is no cookie at all (no failed request in the console).
    pub restore: &'static str,
    /// End this browser's session.
    pub logout: &'static str,
    /// End every session of the user.
    pub logout_everywhere: &'static str,
    /// Answers 200 when the server is up; probed while the server is unreachable and the
    /// access token is still good.
    pub health: &'static str,
    /// The prefix of the cookie-authenticated endpoints (and the refresh cookie's `Path`).
    pub auth_prefix: &'static str,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            login: paths::LOGIN,
            register: paths::REGISTER,
            refresh: paths::REFRESH,
            restore: paths::REFRESH_OPTIONAL,
            logout: paths::LOGOUT,
            logout_everywhere: paths::LOGOUT_GLOBAL,
            health: "/api/health",
            auth_prefix: paths::AUTH_PREFIX,
        }
    }
}

/// Exponential backoff with jitter for retries while the server is unavailable.
#[derive(Clone, Debug, PartialEq)]
pub struct Backoff {
    /// The first retry waits about this long…
    pub initial: Duration,
    /// …each following one twice as long…
    pub factor: f64,
    /// …never longer than this.
    pub max: Duration,
    /// Each wait is shortened by a random part of up to this fraction (0 = no jitter), so
    /// many tabs and many users do not retry in lockstep.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_secs(1),
            factor: 2.0,
            max: Duration::from_secs(30),
            jitter: 0.5,
        }
    }
}

/// How the client behaves. `ClientConfig::default()` is what the tokenpair SPA uses.
#[derive(Clone, Debug, PartialEq)]
pub struct ClientConfig {
    /// The server's endpoints.
    pub endpoints: Endpoints,
    /// Every request is aborted after this long (an `AbortController` deadline). A refresh
    /// that times out counts as "server unreachable": the session is kept and retried.
    /// Keep `request_timeout` + `backoff.initial` below the server's refresh grace window
    /// (10 s on tokenpair): if the server rotated but the answer was lost, the retry presents
    /// the predecessor, which is answered only within that window.
    pub request_timeout: Duration,
    /// Waiting for the cross-tab refresh lock gives up after this long; the tab then
    /// re-checks its token and proceeds without the lock. Longer than `request_timeout`, so
    /// a tab holding the lock normally finishes first.
    pub lock_timeout: Duration,
    /// Refresh this long before the access token expires at most…
    pub refresh_margin: Duration,
    /// …and at most this fraction of the token's lifetime (short-lived tokens).
    pub refresh_margin_fraction: f64,
    /// Refresh proactively before expiry (otherwise only after a 401).
    pub proactive_refresh: bool,
    /// Retry timing while the server is unreachable or refusing for a transient reason.
    pub backoff: Backoff,
    /// The Web Lock that serialises everything that changes the refresh cookie (refresh,
    /// sign-in, register, sign-out) across the tabs of this origin. `None`: no lock.
    pub lock_name: Option<String>,
    /// The BroadcastChannel the tabs of this origin talk on. `None`: this tab is alone.
    pub channel_name: Option<String>,
    /// A `localStorage` key that records "a sign-out is waiting for the server" (no secret:
    /// only the words `here` or `everywhere`), so a reload does not sign back in through the
    /// still-valid cookie. `None`: not remembered across reloads.
    pub pending_sign_out_key: Option<String>,
    /// After a new token is broadcast, keep the lock this much longer so the other tabs
    /// receive the message before one of them takes the lock.
    pub broadcast_settle: Duration,
    /// When the server session is this close to its end (idle timeout or absolute expiry, as
    /// the token response says), [`AuthStore::session_ending`](crate::AuthStore::session_ending)
    /// asks the app to warn the user.
    pub session_warning: Duration,
    /// How often to compare the wall clock with the monotonic clock to notice that the
    /// machine slept (timers do not run during sleep). `Duration::ZERO`: off.
    pub wake_check_every: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoints: Endpoints::default(),
            request_timeout: Duration::from_secs(8),
            lock_timeout: Duration::from_secs(15),
            refresh_margin: Duration::from_secs(30),
            refresh_margin_fraction: 0.2,
            proactive_refresh: true,
            backoff: Backoff::default(),
            lock_name: Some("tokenpair-refresh".into()),
            channel_name: Some("tokenpair-auth".into()),
            pending_sign_out_key: Some("tokenpair-pending-sign-out".into()),
            broadcast_settle: Duration::from_millis(40),
            session_warning: Duration::from_secs(60),
            wake_check_every: Duration::from_secs(5),
        }
    }
}

impl ClientConfig {
    /// How long before expiry a token of `lifetime_ms` is refreshed.
    pub(crate) fn margin_ms(&self, lifetime_ms: f64) -> f64 {
        (self.refresh_margin.as_millis() as f64).min(lifetime_ms * self.refresh_margin_fraction)
    }
}
