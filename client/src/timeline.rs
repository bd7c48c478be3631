//! The timeline: what the tokens did in this tab, newest last, for a token inspector. (For
//! reacting to sign-ins and sign-outs in code, use [`crate::AuthEvent`] instead.)

/// How many entries the timeline keeps.
pub const TIMELINE_LEN: usize = 40;

/// One thing that happened.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEntry {
    /// Wall-clock time (`Date.now()` ms).
    pub at_ms: f64,
    /// What kind of thing.
    pub kind: TimelineKind,
    /// A sentence about it.
    pub detail: String,
}

impl TimelineEntry {
    pub(crate) fn now(kind: TimelineKind, detail: &str) -> TimelineEntry {
        TimelineEntry {
            at_ms: js_sys::Date::now(),
            kind,
            detail: detail.to_owned(),
        }
    }
}

/// The kinds of timeline entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimelineKind {
    /// Signed in (or a session started elsewhere was adopted).
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

impl TimelineKind {
    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            TimelineKind::SignedIn => "sign-in",
            TimelineKind::Restored => "restored",
            TimelineKind::ProactiveRefresh => "proactive refresh",
            TimelineKind::RefreshAfter401 => "401 → refresh",
            TimelineKind::Retry => "retry",
            TimelineKind::CrossTab => "cross-tab",
            TimelineKind::SignedOut => "sign-out",
            TimelineKind::Unreachable => "unreachable",
            TimelineKind::Recovered => "recovered",
            TimelineKind::Woke => "wake",
        }
    }
}
