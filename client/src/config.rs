//! Every knob of the client, with defaults that suit a typical token-pair backend.
//!
//! ```
//! # use std::time::Duration;
//! # use tokenpair_client::ClientConfig;
//! let config = ClientConfig::builder("my-app")
//!     .request_timeout(Duration::from_secs(8))
//!     .allow_origin("https://api.my-app.example")
//!     .build();
//! assert_eq!(config.lock_name.as_deref(), Some("my-app:refresh"));
//! ```
//!
//! The backend itself (base URL, paths, the CSRF header, credentials mode) is described by the
//! [`Protocol`](crate::Protocol), not here.

use std::time::Duration;

/// Exponential backoff with jitter for retries while the server is unavailable.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// The first retry waits about this long…
    pub initial: Duration,
    /// …each following one `factor` times as long…
    pub factor: f64,
    /// …never longer than this.
    pub max: Duration,
    /// Each wait is shortened by a random part of up to this fraction (0 = no jitter), so
    /// many tabs and many users do not retry in lockstep.
    pub jitter: f64,
}

impl Backoff {
    /// A backoff from its four numbers.
    pub fn new(initial: Duration, factor: f64, max: Duration, jitter: f64) -> Backoff {
        Backoff {
            initial,
            factor,
            max,
            jitter,
        }
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), 2.0, Duration::from_secs(30), 0.5)
    }
}

/// How the tabs of one origin take turns at the refresh cookie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LockMode {
    /// The Web Lock where the browser has `navigator.locks`, otherwise a lease in
    /// `localStorage` (a key that holds no secret: a random tab id and an expiry time).
    #[default]
    Auto,
    /// Always the `localStorage` lease (for browsers whose Web Locks misbehave; tests).
    Lease,
    /// No lock at all: every tab refreshes on its own (only for an app that is never open in
    /// two tabs).
    Off,
}

/// How the client behaves. Build one with [`ClientConfig::builder`] (or start from
/// [`ClientConfig::new`] and set fields).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Names this app's lock, channel and storage keys, so two apps on one origin do not share
    /// them.
    pub app_id: String,
    /// Every request is aborted after this long (an `AbortController` deadline). A refresh
    /// that times out counts as "server unreachable": the session is kept and retried.
    /// Keep `request_timeout` + `backoff.initial` below the server's refresh grace window
    /// (10 s on tokenpair): if the server rotated but the answer was lost, the retry presents
    /// the predecessor, which is answered only within that window.
    pub request_timeout: Duration,
    /// Waiting for the cross-tab lock gives up after this long (the tab then re-checks and
    /// proceeds without it), and nothing holds the lock longer than this: requests made under
    /// the lock share this budget.
    pub lock_timeout: Duration,
    /// Refresh this long before the access token expires at most…
    pub refresh_margin: Duration,
    /// …and at most this fraction of the token's lifetime (short-lived tokens).
    pub refresh_margin_fraction: f64,
    /// Refresh proactively before expiry (otherwise only after a 401).
    pub proactive_refresh: bool,
    /// Where the tabs take turns through the `localStorage` lease (no Web Locks), the
    /// proactive refresh fires up to this much earlier (never more than the refresh margin
    /// again), at random, so the tabs do not all reach for the lease at the same instant.
    pub refresh_jitter: Duration,
    /// Retry timing while the server is unreachable or refusing for a transient reason.
    pub backoff: Backoff,
    /// How tabs take turns ([`LockMode`]).
    pub lock_mode: LockMode,
    /// The Web Lock (and lease key) that serialises everything that changes the refresh
    /// cookie (refresh, sign-in, sign-out) across the tabs of this origin. `None`: no lock.
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
    /// the token response says), the store's `session_ending` asks the app to warn the user.
    pub session_warning: Duration,
    /// How often to compare the wall clock with the monotonic clock to notice that the
    /// machine slept (timers do not run during sleep). `Duration::ZERO`: off.
    pub wake_check_every: Duration,
    /// Sender-constrained tokens ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449) DPoP):
    /// every sign-in, refresh and sign-out carries a proof made by a non-extractable key kept
    /// in IndexedDB ([`crate::dpop`]), and an access token the server bound to it (`token_type:
    /// DPoP`) goes out as `Authorization: DPoP` with a proof. Off by default, for backends
    /// that do not know DPoP (a cross-origin one must allow the `DPoP` request header and
    /// expose `DPoP-Nonce`); the tokenpair SPA turns it on.
    pub dpop: bool,
    /// Origins (`https://api.example.com`) besides the page's own that may receive the access
    /// token. Requests anywhere else are refused before anything is sent.
    pub allowed_origins: Vec<String>,
}

impl ClientConfig {
    /// The defaults, with names derived from `app_id`: the lock `"{app_id}:refresh"`, the
    /// channel `"{app_id}:auth"`, the pending-sign-out key `"{app_id}:pending-sign-out"`.
    pub fn new(app_id: &str) -> ClientConfig {
        ClientConfig {
            app_id: app_id.to_owned(),
            request_timeout: Duration::from_secs(8),
            lock_timeout: Duration::from_secs(15),
            refresh_margin: Duration::from_secs(30),
            refresh_margin_fraction: 0.2,
            proactive_refresh: true,
            refresh_jitter: Duration::from_millis(500),
            backoff: Backoff::default(),
            lock_mode: LockMode::Auto,
            lock_name: Some([app_id, ":refresh"].concat()),
            channel_name: Some([app_id, ":auth"].concat()),
            pending_sign_out_key: Some([app_id, ":pending-sign-out"].concat()),
            broadcast_settle: Duration::from_millis(40),
            session_warning: Duration::from_secs(60),
            wake_check_every: Duration::from_secs(5),
            dpop: false,
            allowed_origins: Vec::new(),
        }
    }

    /// A builder starting from [`ClientConfig::new`]`(app_id)`.
    pub fn builder(app_id: &str) -> ClientConfigBuilder {
        ClientConfigBuilder(ClientConfig::new(app_id))
    }

    /// How long before expiry a token of `lifetime_ms` is refreshed.
    pub(crate) fn margin_ms(&self, lifetime_ms: f64) -> f64 {
        (self.refresh_margin.as_millis() as f64).min(lifetime_ms * self.refresh_margin_fraction)
    }
}

/// `ClientConfig::new("tokenpair-client")`.
impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new("tokenpair-client")
    }
}

/// Builds a [`ClientConfig`]; every method sets one field.
#[derive(Clone, Debug)]
pub struct ClientConfigBuilder(ClientConfig);

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.0.$name = value;
                self
            }
        )*
    };
}

impl ClientConfigBuilder {
    setters! {
        /// [`ClientConfig::request_timeout`].
        request_timeout: Duration,
        /// [`ClientConfig::lock_timeout`].
        lock_timeout: Duration,
        /// [`ClientConfig::refresh_margin`].
        refresh_margin: Duration,
        /// [`ClientConfig::refresh_margin_fraction`].
        refresh_margin_fraction: f64,
        /// [`ClientConfig::proactive_refresh`].
        proactive_refresh: bool,
        /// [`ClientConfig::refresh_jitter`].
        refresh_jitter: Duration,
        /// [`ClientConfig::backoff`].
        backoff: Backoff,
        /// [`ClientConfig::lock_mode`].
        lock_mode: LockMode,
        /// [`ClientConfig::lock_name`].
        lock_name: Option<String>,
        /// [`ClientConfig::channel_name`].
        channel_name: Option<String>,
        /// [`ClientConfig::pending_sign_out_key`].
        pending_sign_out_key: Option<String>,
        /// [`ClientConfig::broadcast_settle`].
        broadcast_settle: Duration,
        /// [`ClientConfig::session_warning`].
        session_warning: Duration,
        /// [`ClientConfig::wake_check_every`].
        wake_check_every: Duration,
        /// [`ClientConfig::dpop`].
        dpop: bool,
    }

    /// Lets the access token go to `origin` too (`https://api.example.com`, no path).
    pub fn allow_origin(mut self, origin: &str) -> Self {
        self.0
            .allowed_origins
            .push(origin.trim_end_matches('/').to_owned());
        self
    }

    /// The configuration.
    pub fn build(self) -> ClientConfig {
        self.0
    }
}
