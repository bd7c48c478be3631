//! Typed events, so an app can react to what the client did: clear its caches on sign-out,
//! reload a view when the server is back, warn before the session ends.
//!
//! Each event reaches the app two ways: as a callback ([`crate::TokenClient::on_event`], or
//! [`crate::Auth::on_event`] in a Leptos component) and as a signal
//! ([`crate::Auth::events`]).
//!
//! **Listeners never run inside the cross-tab lock**, and never inside the client's own call
//! stack: events are queued while the lock is held and delivered from a fresh task after it is
//! released. A listener may therefore call the client — refresh, sign out, make a request —
//! without the deadlock that a listener called under the lock causes (supabase auth-js #762).

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::auth_state::{SessionEnding, SignOutScope};
use crate::problem::Problem;

/// Something the client did.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AuthEvent<U> {
    /// A new sign-in: in this tab, in another tab, or a session handed over with
    /// `adopt_session`.
    SignedIn {
        /// Who signed in.
        user: U,
    },
    /// At page load, the session came back through the refresh cookie.
    Restored {
        /// Who is signed in.
        user: U,
    },
    /// A fresh access token for the same sign-in.
    Refreshed,
    /// Nobody is signed in any more (or, at page load, was).
    SignedOut {
        /// Why.
        reason: SignOutReason,
    },
    /// The server session ends soon: time to ask the user whether to stay.
    SessionEndingSoon {
        /// Whether a refresh can move the end.
        ending: SessionEnding,
    },
    /// A refresh failed.
    RefreshFailed {
        /// For now (the client retries) or for good (the session is over).
        failure: RefreshFailure,
    },
    /// The server answers again after a problem: a good moment to reload what failed.
    Recovered,
    /// A request needs a more recent sign-in (an RFC 9470 step-up challenge): ask the person
    /// to confirm it is them, then call `AuthEndpoints::reauthenticate` (or
    /// `cancel_reauthentication`). Once per wait, however many requests join it.
    ReauthenticationRequired {
        /// Which request, and what the server asks.
        request: crate::step_up::ReauthenticationRequest,
    },
}

/// Why nobody is signed in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignOutReason {
    /// The user signed out (in this tab or another).
    ByUser {
        /// This device or every device.
        scope: SignOutScope,
    },
    /// At page load there was no session to restore.
    NoSession,
    /// The server refused the refresh: expired, revoked, or a reused refresh token.
    SessionEnded {
        /// The server's reason.
        code: String,
    },
    /// The session reached its end (idle timeout or absolute lifetime) without a refresh.
    SessionExpired,
}

/// A refresh that failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshFailure {
    /// The server could not be asked; the session is kept and the client retries.
    Temporary(Problem),
    /// The server refused the refresh token: the session is over.
    Final {
        /// The server's reason.
        code: String,
    },
}

type Listener<U> = Rc<dyn Fn(&AuthEvent<U>)>;

/// Identifies a listener, to remove it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

struct Inner<U: Send + Sync + 'static> {
    listeners: RefCell<Vec<(ListenerId, Listener<U>)>>,
    next_id: Cell<u64>,
    queue: RefCell<Vec<AuthEvent<U>>>,
    /// Lock sections in progress: events wait for all of them to end.
    held: Cell<u32>,
    flush_scheduled: Cell<bool>,
}

/// Queues events and delivers them to the listeners and the signal (see the module docs).
pub(crate) struct EventBus<U: Send + Sync + 'static>(Rc<Inner<U>>);

/// While alive, events are held back (a lock section is running).
pub(crate) struct HoldEvents<U: Send + Sync + 'static>(Weak<Inner<U>>);

impl<U: Clone + Send + Sync + 'static> EventBus<U> {
    pub(crate) fn new() -> Self {
        EventBus(Rc::new(Inner {
            listeners: RefCell::new(Vec::new()),
            next_id: Cell::new(0),
            queue: RefCell::new(Vec::new()),
            held: Cell::new(0),
            flush_scheduled: Cell::new(false),
        }))
    }

    pub(crate) fn listen(&self, listener: impl Fn(&AuthEvent<U>) + 'static) -> ListenerId {
        let id = ListenerId(self.0.next_id.get());
        self.0.next_id.set(id.0 + 1);
        self.0.listeners.borrow_mut().push((id, Rc::new(listener)));
        id
    }

    pub(crate) fn unlisten(&self, id: ListenerId) {
        self.0.listeners.borrow_mut().retain(|(i, _)| *i != id);
    }

    pub(crate) fn clear(&self) {
        self.0.listeners.borrow_mut().clear();
        self.0.queue.borrow_mut().clear();
    }

    /// Queues `event` for delivery after any lock section in progress.
    pub(crate) fn emit(&self, event: AuthEvent<U>) {
        self.0.queue.borrow_mut().push(event);
        schedule_flush(&self.0);
    }

    /// Holds events back until the returned guard is dropped.
    pub(crate) fn hold(&self) -> HoldEvents<U> {
        self.0.held.set(self.0.held.get() + 1);
        HoldEvents(Rc::downgrade(&self.0))
    }
}

impl<U: Send + Sync + 'static> Drop for HoldEvents<U> {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            inner.held.set(inner.held.get().saturating_sub(1));
            schedule_flush(&inner);
        }
    }
}

fn schedule_flush<U: Send + Sync + 'static>(inner: &Rc<Inner<U>>) {
    if inner.held.get() > 0 || inner.flush_scheduled.get() || inner.queue.borrow().is_empty() {
        return;
    }
    inner.flush_scheduled.set(true);
    let weak = Rc::downgrade(inner);
    wasm_bindgen_futures::spawn_local(async move {
        let Some(inner) = weak.upgrade() else { return };
        inner.flush_scheduled.set(false);
        if inner.held.get() > 0 {
            return;
        }
        let events: Vec<AuthEvent<U>> = inner.queue.borrow_mut().drain(..).collect();
        for event in events {
            deliver(&inner, event);
        }
    });
}

fn deliver<U: Send + Sync + 'static>(inner: &Inner<U>, event: AuthEvent<U>) {
    // Listeners may add or remove listeners: call a copy of the list.
    let listeners: Vec<Listener<U>> = inner
        .listeners
        .borrow()
        .iter()
        .map(|(_, l)| l.clone())
        .collect();
    for listener in listeners {
        listener(&event);
    }
}
