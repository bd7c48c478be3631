//! The timeline: what the tokens did in this tab, for a token inspector.

/// How many entries the timeline keeps.
pub const TIMELINE_LEN: usize = 40;

/// One thing that happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Wall-clock time (`Date.now()` ms).
    pub at_ms: f64,
    /// What kind of thing.
    pub kind: EventKind,
    /// A sentence about it.
    pub detail: String,
}

impl Event {
    pub(crate) fn now(kind: EventKind, detail: &str) -> Event {
        Event {
            at_ms: js_sys::Date::now(),
            kind,
            detail: detail.to_owned(),
        }
    }
}

/// The kinds of timeline entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// Signed in with a password (or registered).
    SignedIn,
    /// The session came back through the refresh cookie.
    Restored,
    /// Refreshed before the access token expired.
    ProactiveRefresh,
    /// A request got 401 and the token was refreshed.
    RefreshAfter401,
    /// A request was retried with the new token.
    Retry,
    /// Something another tab did (or a decision about its message).
    CrossTab,
    /// Signed out, for whatever reason.
    SignedOut,
    /// The server became unavailable.
    Unreachable,
    /// The server answers again.
    Recovered,
    /// The page or the machine was asleep.
    Woke,
}

impl EventKind {
    /// A short label.
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
            EventKind::Woke => "wake",
        }
    }
}
