//! **Where the access token is kept**: here, in memory, and nowhere else.
//!
//! [`State`] is the client's own truth — the [`AuthState`] (restoring / signed in with the
//! user and the [`AccessToken`] / signed out), the [`SessionVersion`], the transient
//! [`Problem`] and a pending sign-out — in plain `RefCell`s, so the client never depends on a
//! Leptos signal that may have been disposed. Every change is mirrored into the
//! [`AuthStore`](crate::AuthStore) signals the views read.
//!
//! Nothing here writes to localStorage, sessionStorage, IndexedDB or `document.cookie`, and
//! the refresh token is never visible to this code at all: it is an HttpOnly cookie.

use std::cell::{Cell, RefCell};

use crate::auth_state::{AuthState, Notice, SessionVersion, SignOutScope};
use crate::problem::Problem;
use crate::protocol::Grant;
use crate::store::AuthStore;
use crate::time::Instant;
use crate::timeline::TimelineKind;
use crate::token::AccessToken;

/// The client's truth about this tab (see the module docs).
pub(crate) struct State<U: 'static> {
    auth: RefCell<AuthState<U>>,
    version: Cell<SessionVersion>,
    problem: RefCell<Option<Problem>>,
    pending_sign_out: Cell<Option<SignOutScope>>,
    /// The signals the views read; written after every change here.
    pub(crate) store: AuthStore<U>,
}

impl<U: Clone + PartialEq + Send + Sync + 'static> State<U> {
    pub(crate) fn new() -> Self {
        State {
            auth: RefCell::new(AuthState::Restoring),
            version: Cell::new(SessionVersion::default()),
            problem: RefCell::new(None),
            pending_sign_out: Cell::new(None),
            store: AuthStore::new(),
        }
    }

    // ---- reading ----

    pub(crate) fn auth(&self) -> AuthState<U> {
        self.auth.borrow().clone()
    }

    pub(crate) fn token(&self) -> Option<AccessToken> {
        self.auth.borrow().token().cloned()
    }

    pub(crate) fn user(&self) -> Option<U> {
        self.auth.borrow().user().cloned()
    }

    /// Whether `user` is the one signed in (no copy made).
    pub(crate) fn user_is(&self, user: &U) -> bool {
        self.auth.borrow().user() == Some(user)
    }

    pub(crate) fn is_restoring(&self) -> bool {
        matches!(*self.auth.borrow(), AuthState::Restoring)
    }

    pub(crate) fn is_signed_in(&self) -> bool {
        matches!(*self.auth.borrow(), AuthState::SignedIn { .. })
    }

    pub(crate) fn is_signed_out(&self) -> bool {
        matches!(*self.auth.borrow(), AuthState::SignedOut)
    }

    pub(crate) fn version(&self) -> SessionVersion {
        self.version.get()
    }

    pub(crate) fn problem(&self) -> Option<Problem> {
        self.problem.borrow().clone()
    }

    pub(crate) fn pending_sign_out(&self) -> Option<SignOutScope> {
        self.pending_sign_out.get()
    }

    // ---- changing ----

    /// A new sign-in in this tab (sign-in, restore, adopting another tab's): new version.
    pub(crate) fn begin(
        &self,
        grant: &Grant<U>,
        received_at: Instant,
        kind: TimelineKind,
        detail: &str,
    ) {
        self.version.set(self.version.get().next());
        self.store.set_notice(None);
        self.set_pending_sign_out(None);
        self.set_token(grant, received_at);
        self.store.log(kind, detail);
    }

    /// A fresh access token for the same sign-in: same version.
    pub(crate) fn replace_token(
        &self,
        grant: &Grant<U>,
        received_at: Instant,
        kind: TimelineKind,
        detail: &str,
    ) {
        self.set_token(grant, received_at);
        self.store.log(kind, detail);
    }

    fn set_token(&self, grant: &Grant<U>, received_at: Instant) {
        self.store.set_session_ending(None);
        let state = AuthState::SignedIn {
            user: grant.user.clone(),
            token: AccessToken::new(
                (grant.access_token.clone(), grant.token_type),
                grant.expires_in,
                received_at,
                grant.session_id.clone(),
                (grant.idle_expires_in, grant.session_expires_in),
            ),
        };
        *self.auth.borrow_mut() = state.clone();
        self.store.mirror_state(state, self.version.get());
    }

    /// Forgets the access token: new version, no problem, `notice` for the sign-in page.
    pub(crate) fn end(&self, notice: Option<Notice>, detail: &str) {
        self.version.set(self.version.get().next());
        self.store.set_notice(notice);
        self.store.set_session_ending(None);
        *self.auth.borrow_mut() = AuthState::SignedOut;
        self.store
            .mirror_state(AuthState::SignedOut, self.version.get());
        self.set_problem(None);
        self.store.log(TimelineKind::SignedOut, detail);
    }

    pub(crate) fn set_pending_sign_out(&self, scope: Option<SignOutScope>) {
        self.pending_sign_out.set(scope);
        self.store.mirror_pending_sign_out(scope);
    }

    /// Sets or clears the transient problem, logging the change. Whether it changed.
    pub(crate) fn set_problem(&self, problem: Option<Problem>) -> bool {
        if *self.problem.borrow() == problem {
            return false;
        }
        let was_set = self.problem.borrow().is_some();
        match &problem {
            Some(p) => self.store.log(TimelineKind::Unreachable, &p.message()),
            None if was_set => self
                .store
                .log(TimelineKind::Recovered, "the server is answering again"),
            None => {}
        }
        *self.problem.borrow_mut() = problem.clone();
        self.store.mirror_problem(problem);
        true
    }
}
