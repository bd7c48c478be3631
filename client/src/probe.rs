//! The probe's state: while the server is unavailable, one retry at a time with backoff.
//!
//! [`Probe`] owns the bookkeeping — the scheduled timer, whether a probe is in flight, the
//! attempt count, the `online` listener while the browser is offline, and whether the next
//! probe must be a refresh. What a probe *does* (a refresh or a health check) and what follows
//! it are decided in [`crate::recovery`].

use std::cell::{Cell, RefCell};
use std::time::Duration;

use crate::backoff::random;
use crate::config::Backoff;
use crate::listener::Listener;
use crate::time::Timer;

/// See the module docs.
#[derive(Default)]
pub(crate) struct Probe {
    timer: RefCell<Option<Timer>>,
    in_flight: Cell<bool>,
    attempt: Cell<u32>,
    waiting_for_online: RefCell<Option<Listener>>,
    /// The last refresh got no usable answer. The server may have rotated the cookie without
    /// the browser hearing it, so the retry must be a refresh, soon — within the server's
    /// grace window, where presenting the predecessor is still answered.
    refresh_owed: Cell<bool>,
}

impl Probe {
    /// The outage is over (or the session): forget everything.
    pub(crate) fn cancel(&self) {
        self.timer.borrow_mut().take();
        self.waiting_for_online.borrow_mut().take();
        self.attempt.set(0);
        self.refresh_owed.set(false);
    }

    /// Probes scheduled so far in this outage.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt.get()
    }

    /// A probe is in flight, scheduled, or waiting for `online`.
    pub(crate) fn is_busy(&self) -> bool {
        self.in_flight.get()
            || self.timer.borrow().is_some()
            || self.waiting_for_online.borrow().is_some()
    }

    pub(crate) fn in_flight(&self) -> bool {
        self.in_flight.get()
    }

    pub(crate) fn set_in_flight(&self, in_flight: bool) {
        self.in_flight.set(in_flight);
    }

    pub(crate) fn refresh_owed(&self) -> bool {
        self.refresh_owed.get()
    }

    pub(crate) fn owe_refresh(&self, owed: bool) {
        self.refresh_owed.set(owed);
    }

    /// Calls `fire` after the next backoff delay (never sooner than `retry_after`).
    pub(crate) fn schedule(
        &self,
        backoff: &Backoff,
        retry_after: Option<Duration>,
        fire: impl FnOnce() + 'static,
    ) {
        let attempt = self.attempt.get();
        self.attempt.set(attempt.saturating_add(1));
        let wait = backoff.delay(attempt, random(), retry_after);
        *self.timer.borrow_mut() = Some(Timer::after(wait, fire));
    }

    /// The scheduled probe is firing (or is replaced by one now).
    pub(crate) fn unschedule(&self) {
        self.timer.borrow_mut().take();
    }

    /// Calls `fire` when the browser goes back online.
    pub(crate) fn wait_for_online(&self, fire: impl FnMut(web_sys::Event) + 'static) {
        *self.waiting_for_online.borrow_mut() = Listener::on_window("online", fire);
    }

    pub(crate) fn stop_waiting_for_online(&self) {
        self.waiting_for_online.borrow_mut().take();
    }
}

/// Whether the browser says it is offline.
pub(crate) fn browser_is_offline() -> bool {
    web_sys::window().is_some_and(|w| !w.navigator().on_line())
}
