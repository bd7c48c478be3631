//! One refresh at a time per tab: [`RefreshSlot`] holds the refresh in flight, and every
//! caller — concurrent 401s, the proactive timer, the probe — joins it instead of starting
//! another. Also what a refresh ends in ([`RefreshOutcome`]) and why it was asked for
//! ([`RefreshReason`]).

use std::cell::RefCell;

use futures::future::{FutureExt, LocalBoxFuture, Shared};

use crate::problem::Problem;

/// How a refresh ended; every caller waiting on the same refresh sees the same outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshOutcome {
    /// A fresh access token is in memory (from the server, or from another tab).
    Refreshed,
    /// The server refused the refresh token (or, at page load, there was no session): signed
    /// out.
    Ended,
    /// A transient problem; the session is kept and retried.
    Unavailable(Problem),
    /// The sign-in changed (sign-out, another sign-in) before or while the refresh ran:
    /// nothing was sent, or the answer was discarded.
    Stale,
}

/// Why a refresh was asked for (for the timeline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshReason {
    /// At page load: restore the session through the cookie.
    Restore,
    /// Shortly before the access token expires (or the app asked).
    Proactive,
    /// A request got 401.
    After401,
    /// Retrying after a problem.
    Retry,
    /// The person proved who they are again (step-up): a token with a fresh `auth_time`.
    Reauthenticated,
}

/// A refresh every caller can await.
pub(crate) type RefreshFuture = Shared<LocalBoxFuture<'static, RefreshOutcome>>;

/// The refresh in flight, if any.
#[derive(Default)]
pub(crate) struct RefreshSlot(RefCell<Option<RefreshFuture>>);

impl RefreshSlot {
    /// The running refresh, if any.
    pub(crate) fn running(&self) -> Option<RefreshFuture> {
        self.0.borrow().clone()
    }

    /// Joins the running refresh, or starts `start()` and drives it to the end even if
    /// nobody awaits it. `start` must call [`RefreshSlot::finished`] when done.
    pub(crate) fn join_or_start(
        &self,
        start: impl FnOnce() -> LocalBoxFuture<'static, RefreshOutcome>,
    ) -> RefreshFuture {
        if let Some(running) = self.running() {
            return running;
        }
        let future = start().shared();
        *self.0.borrow_mut() = Some(future.clone());
        let driver = future.clone();
        wasm_bindgen_futures::spawn_local(async move {
            driver.await;
        });
        future
    }

    /// The refresh in flight ended (or settled its broadcast).
    pub(crate) fn finished(&self) {
        self.0.borrow_mut().take();
    }

    pub(crate) fn is_running(&self) -> bool {
        self.0.borrow().is_some()
    }
}
