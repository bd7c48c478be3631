//! Where the access token is kept: here, in memory, and nowhere else.
//!
//! [`AuthStore`] is a bundle of Leptos signals (so it is `Copy` and views can read it
//! reactively):
//! * `state`: [`AuthState`] — restoring (at boot, until the first silent refresh answers) /
//!   signed in (the user and the [`AccessToken`]) / signed out;
//! * `version`: a [`SessionVersion`] bumped by every sign-in and sign-out in this tab, so work
//!   that started under one version (a refresh, a 401 retry) is dropped under another;
//! * `notice`: a [`Notice`] for the sign-in page ("Your session ended…");
//! * `problem`: a transient [`Problem`] (server unreachable, 429…); the session is kept;
//! * `pending_sign_out`: a sign-out the server has not confirmed yet;
//! * `timeline`: what the tokens did, newest last ([`crate::events`]).
//!
//! Nothing here writes to localStorage, sessionStorage, IndexedDB or `document.cookie`, and
//! the refresh token is never visible to this code at all: it is an HttpOnly cookie.

use std::fmt;

use leptos::prelude::*;
use tokenpair_api::{TokenResponse, UserSummary};

use crate::clock::Instant;
use crate::events::{Event, EventKind, TIMELINE_LEN};
use crate::problem::Problem;

/// Counts this tab's sign-ins and sign-outs. Anything started under one version (a refresh, a
/// request waiting to be retried) is discarded if the version changed meanwhile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionVersion(u64);

impl SessionVersion {
    /// The version after this one.
    pub fn next(self) -> SessionVersion {
        SessionVersion(self.0 + 1)
    }
}

/// The access token with what the server said about it.
#[derive(Clone, PartialEq)]
pub struct AccessToken {
    value: String,
    /// Seconds of validity when it arrived, as the server counted them.
    pub expires_in: u64,
    /// When it arrived (both clocks).
    pub received_at: Instant,
    /// The server-side session (refresh-token family) it belongs to.
    pub session_id: String,
    /// Seconds, from `received_at`, until the session ends unless refreshed (idle timeout).
    pub idle_expires_in: Option<u64>,
    /// Seconds, from `received_at`, until the session's absolute end.
    pub session_expires_in: Option<u64>,
}

impl AccessToken {
    pub(crate) fn from_response(response: &TokenResponse, now: Instant) -> AccessToken {
        AccessToken {
            value: response.access_token.clone(),
            expires_in: response.expires_in,
            received_at: now,
            session_id: response.session_id.clone(),
            idle_expires_in: response.idle_expires_in,
            session_expires_in: response.session_expires_in,
        }
    }

    /// Milliseconds at `now` until the server session ends (idle timeout or absolute end,
    /// whichever is first), if the server said.
    pub fn session_remaining_ms(&self, now: &Instant) -> Option<f64> {
        let ends = match (self.idle_expires_in, self.session_expires_in) {
            (Some(i), Some(a)) => i.min(a),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => return None,
        };
        Some(ends as f64 * 1000.0 - now.since(&self.received_at))
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

    /// The token itself, for an `Authorization: Bearer` header or a token inspector. Never
    /// log it or store it anywhere else.
    pub fn bearer(&self) -> &str {
        &self.value
    }

    /// The lifetime the server gave it (ms).
    pub fn lifetime_ms(&self) -> f64 {
        self.expires_in as f64 * 1000.0
    }

    /// Milliseconds left at `now`, counted from the server's `expires_in` (see
    /// [`crate::clock`]); negative once expired.
    pub fn remaining_ms(&self, now: &Instant) -> f64 {
        self.lifetime_ms() - now.since(&self.received_at)
    }

    /// Whole seconds left, rounded up, never negative.
    pub fn remaining_secs(&self, now: &Instant) -> u64 {
        (self.remaining_ms(now).max(0.0) / 1000.0).ceil() as u64
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("session_id", &self.session_id)
            .finish()
    }
}

/// Who is signed in in this tab.
#[derive(Clone, Debug, PartialEq)]
pub enum AuthState {
    /// At boot, until the silent refresh through the cookie answers.
    Restoring,
    /// Somebody is signed in.
    SignedIn {
        /// Who.
        user: UserSummary,
        /// Their access token.
        token: AccessToken,
    },
    /// Nobody is signed in.
    SignedOut,
}

/// A message for the sign-in page, saying why the user is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The server refused the refresh: the session expired or was revoked.
    SessionEnded,
    /// Another tab signed out.
    SignedOutInAnotherTab,
    /// The server confirmed the sign-out of this device.
    SignedOut,
    /// The server confirmed the sign-out of every device.
    SignedOutEverywhere,
}

impl Notice {
    /// The sentence to show.
    pub fn message(self) -> &'static str {
        match self {
            Notice::SessionEnded => "Your session ended — please sign in again.",
            Notice::SignedOutInAnotherTab => "You signed out in another tab.",
            Notice::SignedOut => "You are signed out.",
            Notice::SignedOutEverywhere => {
                "You are signed out everywhere: every device's session has ended."
            }
        }
    }
}

/// What a sign-out ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignOutScope {
    /// This browser's session.
    ThisDevice,
    /// Every session of the user.
    Everywhere,
}

/// The auth state of one tab, as signals. `Copy`: capture it anywhere.
#[derive(Clone, Copy)]
pub struct AuthStore {
    state: RwSignal<AuthState>,
    version: RwSignal<SessionVersion>,
    notice: RwSignal<Option<Notice>>,
    problem: RwSignal<Option<Problem>>,
    pending_sign_out: RwSignal<Option<SignOutScope>>,
    session_ending: RwSignal<Option<SessionEnding>>,
    timeline: RwSignal<Vec<Event>>,
    refreshes: RwSignal<u32>,
}

/// The server session is about to end (see [`ClientConfig::session_warning`]): time to ask the
/// user whether to stay signed in.
///
/// [`ClientConfig::session_warning`]: crate::ClientConfig::session_warning
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnding {
    /// Its idle timeout: a refresh ([`crate::TokenClient::stay_signed_in`]) keeps it going.
    Idle,
    /// Its absolute end: only a new sign-in continues.
    Absolute,
}

impl Default for AuthStore {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthStore {
    /// A store in the `Restoring` state.
    pub fn new() -> Self {
        AuthStore {
            state: RwSignal::new(AuthState::Restoring),
            version: RwSignal::new(SessionVersion::default()),
            notice: RwSignal::new(None),
            problem: RwSignal::new(None),
            pending_sign_out: RwSignal::new(None),
            session_ending: RwSignal::new(None),
            timeline: RwSignal::new(Vec::new()),
            refreshes: RwSignal::new(0),
        }
    }

    // ---- reading (reactive) ----

    /// The whole state.
    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    /// For route guards: `None` while restoring, then whether someone is signed in.
    pub fn signed_in(&self) -> Option<bool> {
        self.state.with(|s| match s {
            AuthState::Restoring => None,
            AuthState::SignedIn { .. } => Some(true),
            AuthState::SignedOut => Some(false),
        })
    }

    /// The signed-in user.
    pub fn user(&self) -> Option<UserSummary> {
        self.state.with(|s| match s {
            AuthState::SignedIn { user, .. } => Some(user.clone()),
            _ => None,
        })
    }

    /// The access token.
    pub fn token(&self) -> Option<AccessToken> {
        self.state.with(|s| match s {
            AuthState::SignedIn { token, .. } => Some(token.clone()),
            _ => None,
        })
    }

    /// Why the user is on the sign-in page.
    pub fn notice(&self) -> Option<Notice> {
        self.notice.get()
    }

    /// The transient problem the client is retrying through, if any.
    pub fn problem(&self) -> Option<Problem> {
        self.problem.get()
    }

    /// A sign-out the server has not confirmed yet (the client keeps retrying).
    pub fn pending_sign_out(&self) -> Option<SignOutScope> {
        self.pending_sign_out.get()
    }

    /// Whether the server session is about to end and the user should be asked.
    pub fn session_ending(&self) -> Option<SessionEnding> {
        self.session_ending.get()
    }

    /// What the tokens did, newest last.
    pub fn timeline(&self) -> Vec<Event> {
        self.timeline.get()
    }

    /// Refresh requests this tab has sent (including the silent restore at boot).
    pub fn refresh_count(&self) -> u32 {
        self.refreshes.get()
    }

    /// The current version.
    pub fn version(&self) -> SessionVersion {
        self.version.get()
    }

    /// Forgets the notice (e.g. when the user starts typing).
    pub fn clear_notice(&self) {
        self.notice.set(None);
    }

    // ---- reading (untracked, for the client itself) ----

    pub(crate) fn state_untracked(&self) -> AuthState {
        self.state.get_untracked()
    }

    pub(crate) fn token_untracked(&self) -> Option<AccessToken> {
        self.state.with_untracked(|s| match s {
            AuthState::SignedIn { token, .. } => Some(token.clone()),
            _ => None,
        })
    }

    pub(crate) fn user_id_untracked(&self) -> Option<i64> {
        self.state.with_untracked(|s| match s {
            AuthState::SignedIn { user, .. } => Some(user.id),
            _ => None,
        })
    }

    pub(crate) fn is_restoring_untracked(&self) -> bool {
        self.state
            .with_untracked(|s| matches!(s, AuthState::Restoring))
    }

    pub(crate) fn is_signed_in_untracked(&self) -> bool {
        self.state
            .with_untracked(|s| matches!(s, AuthState::SignedIn { .. }))
    }

    pub(crate) fn version_untracked(&self) -> SessionVersion {
        self.version.get_untracked()
    }

    pub(crate) fn problem_untracked(&self) -> Option<Problem> {
        self.problem.get_untracked()
    }

    pub(crate) fn pending_sign_out_untracked(&self) -> Option<SignOutScope> {
        self.pending_sign_out.get_untracked()
    }

    // ---- changing (only the client does this) ----

    /// A new sign-in in this tab (password, restore, or adopting another tab's): new version.
    pub(crate) fn begin(&self, response: &TokenResponse, kind: EventKind, detail: &str) {
        self.version.update(|v| *v = v.next());
        self.notice.set(None);
        self.pending_sign_out.set(None);
        self.set_token(response);
        self.log(kind, detail);
    }

    /// A fresh access token for the same sign-in: same version.
    pub(crate) fn replace_token(&self, response: &TokenResponse, kind: EventKind, detail: &str) {
        self.set_token(response);
        self.log(kind, detail);
    }

    pub(crate) fn set_session_ending(&self, ending: Option<SessionEnding>) {
        if self.session_ending.get_untracked() != ending {
            self.session_ending.set(ending);
        }
    }

    fn set_token(&self, response: &TokenResponse) {
        self.set_session_ending(None);
        let token = AccessToken::from_response(response, Instant::now());
        self.state.set(AuthState::SignedIn {
            user: response.user.clone(),
            token,
        });
    }

    /// Forgets the access token: new version, no problem, `notice` for the sign-in page.
    pub(crate) fn end(&self, notice: Option<Notice>, detail: &str) {
        self.version.update(|v| *v = v.next());
        self.notice.set(notice);
        self.set_session_ending(None);
        self.state.set(AuthState::SignedOut);
        self.set_problem(None);
        self.log(EventKind::SignedOut, detail);
    }

    pub(crate) fn set_notice(&self, notice: Option<Notice>) {
        self.notice.set(notice);
    }

    pub(crate) fn set_pending_sign_out(&self, scope: Option<SignOutScope>) {
        if self.pending_sign_out.get_untracked() != scope {
            self.pending_sign_out.set(scope);
        }
    }

    /// Sets or clears the transient problem, logging the change.
    pub(crate) fn set_problem(&self, problem: Option<Problem>) {
        if self.problem.get_untracked() == problem {
            return;
        }
        let was_set = self.problem.get_untracked().is_some();
        match &problem {
            Some(p) => self.log(EventKind::Unreachable, &p.message()),
            None if was_set => self.log(EventKind::Recovered, "the server is answering again"),
            None => {}
        }
        self.problem.set(problem);
    }

    pub(crate) fn count_refresh(&self) {
        self.refreshes.update(|n| *n += 1);
    }

    /// Adds an entry to the timeline.
    pub(crate) fn log(&self, kind: EventKind, detail: &str) {
        let event = Event::now(kind, detail);
        self.timeline.update(|t| {
            t.push(event);
            if t.len() > TIMELINE_LEN {
                t.remove(0);
            }
        });
    }
}
