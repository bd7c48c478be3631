//! [`AuthStore`]: what the views read, as Leptos signals (so it is `Copy` and reactive).
//!
//! The client writes these signals after every change to its own state
//! ([`crate::state`]); it never reads them back, so a store whose signals were disposed with
//! their Leptos owner cannot make the client panic. Reading a disposed store gives the
//! "nothing known" values (`None`, `Restoring`, empty lists).
//!
//! Three signals, not one per field: each signal type costs the WebAssembly bundle its own
//! copy of Leptos' signal code, so the small fields share one ([`Status`]).

use leptos::prelude::*;

use crate::auth_state::{AuthState, Notice, SessionEnding, SessionVersion, SignOutScope};
use crate::problem::Problem;
use crate::step_up::ReauthenticationRequest;
use crate::timeline::{TimelineEntry, TimelineKind, TIMELINE_LEN};
use crate::token::AccessToken;

/// The small fields of the store, in one signal.
#[derive(Clone, Default)]
struct Status {
    notice: Option<Notice>,
    problem: Option<Problem>,
    pending_sign_out: Option<SignOutScope>,
    session_ending: Option<SessionEnding>,
    reauthentication: Option<ReauthenticationRequest>,
    refreshes: u32,
}

/// One change to the [`Status`].
enum Change {
    Problem(Option<Problem>),
    PendingSignOut(Option<SignOutScope>),
    Notice(Option<Notice>),
    SessionEnding(Option<SessionEnding>),
    Reauthentication(Option<ReauthenticationRequest>),
    CountRefresh,
}

/// Sets `slot` to `value`; whether that changed it.
fn replace<T: PartialEq>(slot: &mut T, value: T) -> bool {
    let changed = *slot != value;
    *slot = value;
    changed
}

/// The auth state of one tab, as signals. `Copy`: capture it anywhere.
pub struct AuthStore<U: 'static> {
    state: RwSignal<(AuthState<U>, SessionVersion)>,
    status: RwSignal<Status>,
    timeline: RwSignal<Vec<TimelineEntry>>,
}

impl<U: 'static> Clone for AuthStore<U> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<U: 'static> Copy for AuthStore<U> {}

impl<U: Clone + PartialEq + Send + Sync + 'static> AuthStore<U> {
    pub(crate) fn new() -> Self {
        AuthStore {
            state: RwSignal::new((AuthState::Restoring, SessionVersion::default())),
            status: RwSignal::new(Status::default()),
            timeline: RwSignal::new(Vec::new()),
        }
    }

    fn status<T>(&self, read: impl FnOnce(&Status) -> T) -> Option<T> {
        self.status.try_with(read)
    }

    // ---- reading (reactive) ----

    /// The whole state.
    pub fn state(&self) -> AuthState<U> {
        self.state
            .try_with(|(s, _)| s.clone())
            .unwrap_or(AuthState::Restoring)
    }

    /// `None` while restoring, then whether someone is signed in. This re-reads the whole
    /// state, so a view built from it is rebuilt with every refreshed token: to choose views
    /// (a route guard), use the memoised [`Auth::route_condition`](crate::Auth::route_condition).
    pub fn signed_in(&self) -> Option<bool> {
        self.state
            .try_with(|(s, _)| match s {
                AuthState::Restoring => None,
                AuthState::SignedIn { .. } => Some(true),
                AuthState::SignedOut => Some(false),
            })
            .flatten()
    }

    /// The signed-in user.
    pub fn user(&self) -> Option<U> {
        self.state.try_with(|(s, _)| s.user().cloned()).flatten()
    }

    /// The access token.
    pub fn token(&self) -> Option<AccessToken> {
        self.state.try_with(|(s, _)| s.token().cloned()).flatten()
    }

    /// The current version (changes with every sign-in and sign-out in this tab).
    pub fn version(&self) -> SessionVersion {
        self.state.try_with(|(_, v)| *v).unwrap_or_default()
    }

    /// Why the user is on the sign-in page.
    pub fn notice(&self) -> Option<Notice> {
        self.status(|s| s.notice.clone()).flatten()
    }

    /// The transient problem the client is retrying through, if any.
    pub fn problem(&self) -> Option<Problem> {
        self.status(|s| s.problem.clone()).flatten()
    }

    /// A sign-out the server has not confirmed yet (the client keeps retrying).
    pub fn pending_sign_out(&self) -> Option<SignOutScope> {
        self.status(|s| s.pending_sign_out).flatten()
    }

    /// Whether the server session is about to end and the user should be asked.
    pub fn session_ending(&self) -> Option<SessionEnding> {
        self.status(|s| s.session_ending).flatten()
    }

    /// A request waiting for the person to confirm it is them (a step-up challenge): show
    /// the re-authentication dialog while this is `Some`.
    pub fn reauthentication(&self) -> Option<ReauthenticationRequest> {
        self.status(|s| s.reauthentication.clone()).flatten()
    }

    /// Refresh requests this tab has sent (including the silent restore at page load).
    pub fn refresh_count(&self) -> u32 {
        self.status(|s| s.refreshes).unwrap_or(0)
    }

    /// What the tokens did, newest last.
    pub fn timeline(&self) -> Vec<TimelineEntry> {
        self.timeline.try_get().unwrap_or_default()
    }

    /// Forgets the notice (e.g. when the user starts typing).
    pub fn clear_notice(&self) {
        self.set_notice(None);
    }

    // ---- writing (only the client, mirroring its state) ----

    pub(crate) fn mirror_state(&self, state: AuthState<U>, version: SessionVersion) {
        let _ = self.state.try_set((state, version));
    }

    /// Changes the status (and notifies readers) only if it changes. (One function with a
    /// match, not one closure per field: each closure would be its own copy of the update.)
    fn change(&self, change: Change) {
        let _ = self.status.try_maybe_update(|s| {
            let changed = match change {
                Change::Problem(p) => replace(&mut s.problem, p),
                Change::PendingSignOut(p) => replace(&mut s.pending_sign_out, p),
                Change::Notice(n) => replace(&mut s.notice, n),
                Change::SessionEnding(e) => replace(&mut s.session_ending, e),
                Change::Reauthentication(r) => replace(&mut s.reauthentication, r),
                Change::CountRefresh => {
                    s.refreshes += 1;
                    true
                }
            };
            (changed, ())
        });
    }

    pub(crate) fn mirror_problem(&self, problem: Option<Problem>) {
        self.change(Change::Problem(problem));
    }

    pub(crate) fn mirror_pending_sign_out(&self, scope: Option<SignOutScope>) {
        self.change(Change::PendingSignOut(scope));
    }

    pub(crate) fn set_notice(&self, notice: Option<Notice>) {
        self.change(Change::Notice(notice));
    }

    pub(crate) fn set_session_ending(&self, ending: Option<SessionEnding>) {
        self.change(Change::SessionEnding(ending));
    }

    pub(crate) fn set_reauthentication(&self, asked: Option<ReauthenticationRequest>) {
        self.change(Change::Reauthentication(asked));
    }

    pub(crate) fn count_refresh(&self) {
        self.change(Change::CountRefresh);
    }

    /// Adds an entry to the timeline.
    pub(crate) fn log(&self, kind: TimelineKind, detail: &str) {
        let entry = TimelineEntry::now(kind, detail);
        let _ = self.timeline.try_update(|t| {
            t.push(entry);
            if t.len() > TIMELINE_LEN {
                t.remove(0);
            }
        });
    }
}
