//! Where the access token is kept: here, in memory, and nowhere else.
//!
//! [`Session`] is a bundle of reactive signals (so it is `Copy` and can be captured anywhere):
//! * `state`: restoring (at boot, until the first silent refresh answers) / signed in (the
//!   user and the access token) / signed out;
//! * `epoch`: bumped by every sign-in and sign-out, so a refresh that was started before and
//!   finishes after is recognised as stale and discarded;
//! * `notice`: the message the login page shows (e.g. "Your session ended");
//! * `unreachable`: the server could not be reached; the session is kept meanwhile;
//! * `timeline`: what the tokens did, for the token inspector.
//!
//! Nothing here writes to localStorage, sessionStorage, IndexedDB or `document.cookie`; the
//! refresh token is never visible to this code at all (HttpOnly cookie).

use leptos::prelude::*;
use tokenpair_api::{TokenResponse, UserSummary};

/// The access token with what the server said about its lifetime.
#[derive(Clone, PartialEq)]
pub struct AccessToken {
    pub token: String,
    /// Seconds of validity at `received_at_ms`, as the server counted them.
    pub expires_in: u64,
    /// `performance.now()`-style milliseconds when it arrived (see [`now_ms`]).
    pub received_at_ms: f64,
}

impl AccessToken {
    /// Milliseconds left, measured with the local monotonic clock from the server's
    /// `expires_in` (never from the token's `exp` and the local wall clock).
    pub fn remaining_ms(&self, now: f64) -> f64 {
        self.expires_in as f64 * 1000.0 - (now - self.received_at_ms)
    }

    /// Whole seconds left, rounded up, never negative (for display: integers only, so the
    /// bundle carries no float formatter).
    pub fn remaining_secs(&self, now: f64) -> u64 {
        (self.remaining_ms(now).max(0.0) / 1000.0).ceil() as u64
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccessToken(<redacted>, expires_in={})", self.expires_in)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    Restoring,
    SignedIn {
        user: UserSummary,
        token: AccessToken,
    },
    SignedOut,
}

/// What happened to the tokens, newest last (shown by the token inspector).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub at_ms: f64,
    pub kind: EventKind,
    pub detail: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    SignedIn,
    Restored,
    ProactiveRefresh,
    RefreshAfter401,
    Retry,
    CrossTab,
    SignedOut,
    Unreachable,
    Recovered,
}

impl EventKind {
    pub fn label(self) -> &'static str {
        match self {
            EventKind::SignedIn => "sign-in",
            EventKind::Restored => "restored",
            EventKind::ProactiveRefresh => "proactive refresh",
            EventKind::RefreshAfter401 => "401 → refresh",
            EventKind::Retry => "retry",
            EventKind::CrossTab => "cross-tab",
            EventKind::SignedOut => "sign-out",
            EventKind::Unreachable => "unreachable",
            EventKind::Recovered => "recovered",
        }
    }
}

const TIMELINE_LEN: usize = 40;

/// Shown on the login page after a failed refresh.
pub const SESSION_ENDED: &str = "Your session ended — please sign in again.";

#[derive(Clone, Copy)]
pub struct Session {
    state: RwSignal<AuthState>,
    epoch: RwSignal<u64>,
    notice: RwSignal<Option<String>>,
    unreachable: RwSignal<bool>,
    timeline: RwSignal<Vec<Event>>,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    pub fn new() -> Self {
        Session {
            state: RwSignal::new(AuthState::Restoring),
            epoch: RwSignal::new(0),
            notice: RwSignal::new(None),
            unreachable: RwSignal::new(false),
            timeline: RwSignal::new(Vec::new()),
        }
    }

    // ---- reading (reactive) ----

    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    /// For route guards: `None` while restoring, then signed in or not.
    pub fn signed_in(&self) -> Option<bool> {
        self.state.with(|s| match s {
            AuthState::Restoring => None,
            AuthState::SignedIn { .. } => Some(true),
            AuthState::SignedOut => Some(false),
        })
    }

    pub fn user(&self) -> Option<UserSummary> {
        self.state.with(|s| match s {
            AuthState::SignedIn { user, .. } => Some(user.clone()),
            _ => None,
        })
    }

    pub fn token(&self) -> Option<AccessToken> {
        self.state.with(|s| match s {
            AuthState::SignedIn { token, .. } => Some(token.clone()),
            _ => None,
        })
    }

    pub fn notice(&self) -> Option<String> {
        self.notice.get()
    }

    pub fn unreachable(&self) -> bool {
        self.unreachable.get()
    }

    pub fn timeline(&self) -> Vec<Event> {
        self.timeline.get()
    }

    // ---- reading (not tracked: for the client layer) ----

    pub fn access_token_untracked(&self) -> Option<String> {
        self.state.with_untracked(|s| match s {
            AuthState::SignedIn { token, .. } => Some(token.token.clone()),
            _ => None,
        })
    }

    pub fn token_untracked(&self) -> Option<AccessToken> {
        self.state.with_untracked(|s| match s {
            AuthState::SignedIn { token, .. } => Some(token.clone()),
            _ => None,
        })
    }

    pub fn is_restoring_untracked(&self) -> bool {
        self.state
            .with_untracked(|s| matches!(s, AuthState::Restoring))
    }

    pub fn is_signed_in_untracked(&self) -> bool {
        self.state
            .with_untracked(|s| matches!(s, AuthState::SignedIn { .. }))
    }

    pub fn epoch_untracked(&self) -> u64 {
        self.epoch.get_untracked()
    }

    pub fn is_unreachable_untracked(&self) -> bool {
        self.unreachable.get_untracked()
    }

    // ---- changing ----

    /// A new session (sign-in, register, or adopting another tab's sign-in): new epoch.
    pub fn sign_in(&self, response: TokenResponse, kind: EventKind, detail: &str) {
        self.epoch.update(|e| *e += 1);
        self.notice.set(None);
        self.set_token(response);
        self.log(kind, detail);
    }

    /// A fresh access token for the same session (refresh): same epoch.
    pub fn replace_token(&self, response: TokenResponse, kind: EventKind, detail: &str) {
        self.set_token(response);
        self.log(kind, detail);
    }

    fn set_token(&self, response: TokenResponse) {
        let token = AccessToken {
            token: response.access_token,
            expires_in: response.expires_in,
            received_at_ms: now_ms(),
        };
        self.state.set(AuthState::SignedIn {
            user: response.user,
            token,
        });
    }

    /// Forgets the access token. `notice` is shown on the login page.
    pub fn sign_out(&self, notice: Option<&str>, detail: &str) {
        self.epoch.update(|e| *e += 1);
        self.notice.set(notice.map(str::to_owned));
        self.state.set(AuthState::SignedOut);
        self.unreachable.set(false);
        self.log(EventKind::SignedOut, detail);
    }

    pub fn set_unreachable(&self, value: bool) {
        if self.unreachable.get_untracked() != value {
            self.unreachable.set(value);
            if value {
                self.log(
                    EventKind::Unreachable,
                    "the server did not answer; keeping the session",
                );
            } else {
                self.log(EventKind::Recovered, "the server is reachable again");
            }
        }
    }

    pub fn clear_notice(&self) {
        self.notice.set(None);
    }

    pub fn log(&self, kind: EventKind, detail: &str) {
        let event = Event {
            at_ms: now_ms(),
            kind,
            detail: detail.to_owned(),
        };
        self.timeline.update(|t| {
            t.push(event);
            if t.len() > TIMELINE_LEN {
                t.remove(0);
            }
        });
    }
}

/// Monotonic milliseconds (`performance.now()`), falling back to `Date.now()`.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}
