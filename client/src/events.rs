//! The timeline: what the tokens did in this tab, for a token inspector.

/// How many entries the timeline keeps.
pub const TIMELINE_LEN: usize = 40;

/// One thing that happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Wall-clock time (`Date.now()` ms).
    pub at_ms: f64,
    pub kind: EventKind,
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
    SignedIn,
    Restored,
    ProactiveRefresh,
    RefreshAfter401,
    Retry,
    CrossTab,
    SignedOut,
    Unreachable,
    Recovered,
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
