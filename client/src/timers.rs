//! Time: refresh shortly before the access token expires, and notice when time passed
//! without us (a background tab's throttled timers, or the machine sleeping).
//!
//! * [`Core::schedule_proactive`]: one timer per token, at `expires_in − margin` (margin =
//!   min(`refresh_margin`, `refresh_margin_fraction` × lifetime)).
//! * [`Core::check_now`]: on `visibilitychange`, `focus`, `online`, `pageshow`, and on wake,
//!   re-checks the token (or probes, if the server was unavailable).
//! * Wake detection: a slow interval compares the wall clock with when it last ran; a gap much
//!   longer than the interval means the page or the machine was asleep.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::{Interval, Timeout};

use crate::clock::Instant;
use crate::core::Core;
use crate::events::EventKind;
use crate::listener::Listener;
use crate::refresh::RefreshReason;
use crate::state::{Notice, SessionEnding};

#[derive(Default)]
pub(crate) struct Timers {
    proactive: RefCell<Option<Timeout>>,
    session_warning: RefCell<Option<Timeout>>,
    session_end: RefCell<Option<Timeout>>,
    wake: RefCell<Option<Interval>>,
    last_tick: Cell<Option<f64>>,
}

impl Timers {
    pub(crate) fn cancel_proactive(&self) {
        self.proactive.borrow_mut().take();
        self.session_warning.borrow_mut().take();
        self.session_end.borrow_mut().take();
    }

    pub(crate) fn cancel_all(&self) {
        self.cancel_proactive();
        self.wake.borrow_mut().take();
    }
}

impl Core {
    /// (Re)schedules the proactive refresh for the current token.
    pub(crate) fn schedule_proactive(self: &Rc<Self>) {
        self.timers.cancel_proactive();
        if !self.config.proactive_refresh || self.is_shut_down() {
            return;
        }
        let Some(token) = self.store.token_untracked() else {
            return;
        };
        let margin = self.config.margin_ms(token.lifetime_ms());
        let delay = (token.remaining_ms(&Instant::now()) - margin).max(250.0);
        let version = self.store.version_untracked();
        let weak = Rc::downgrade(self);
        let timer = Timeout::new(delay as u32, move || {
            let Some(core) = weak.upgrade() else { return };
            if core.store.version_untracked() == version && core.store.is_signed_in_untracked() {
                core.refresh_in_background(RefreshReason::Proactive);
            }
        });
        *self.timers.proactive.borrow_mut() = Some(timer);
        self.schedule_session_end();
    }

    /// Warns `session_warning` before the server session ends, and at the end signs out here
    /// (the server would refuse the next refresh anyway). A new token reschedules both.
    fn schedule_session_end(self: &Rc<Self>) {
        let Some(token) = self.store.token_untracked() else {
            return;
        };
        let Some(left) = token.session_remaining_ms(&Instant::now()) else {
            return;
        };
        let ending = if token.session_end_is_extendable() {
            SessionEnding::Idle
        } else {
            SessionEnding::Absolute
        };
        let warn_in = (left - self.config.session_warning.as_millis() as f64).max(0.0);
        let version = self.store.version_untracked();
        let bearer = token.bearer().to_owned();
        let still = move |core: &Core| {
            core.store.version_untracked() == version
                && core
                    .store
                    .token_untracked()
                    .is_some_and(|t| t.bearer() == bearer)
        };
        let weak = Rc::downgrade(self);
        let still_at_end = still.clone();
        let warn = Timeout::new(warn_in as u32, move || {
            if let Some(core) = weak.upgrade().filter(|c| still(c)) {
                core.store.set_session_ending(Some(ending));
            }
        });
        let weak = Rc::downgrade(self);
        let end = Timeout::new(left.max(0.0) as u32, move || {
            let Some(core) = weak.upgrade().filter(|c| still_at_end(c)) else {
                return;
            };
            core.timers.cancel_proactive();
            core.probe.cancel();
            core.store.end(
                Some(Notice::SessionEnded),
                "the session reached its end without a refresh",
            );
        });
        *self.timers.session_warning.borrow_mut() = Some(warn);
        *self.timers.session_end.borrow_mut() = Some(end);
    }

    /// Time may have passed without our timers: check the token (or the server) now.
    pub(crate) fn check_now(self: &Rc<Self>) {
        if self.is_shut_down() || self.store.pending_sign_out_untracked().is_some() {
            return;
        }
        if self.store.problem_untracked().is_some() {
            self.probe_now();
            return;
        }
        if let Some(token) = self.store.token_untracked() {
            if token.remaining_ms(&Instant::now()) <= self.config.margin_ms(token.lifetime_ms()) {
                self.refresh_in_background(RefreshReason::Proactive);
            } else {
                self.schedule_proactive();
            }
        }
    }

    /// Re-checks when the tab becomes visible, gets focus, goes online or is shown again.
    pub(crate) fn listen_to_window(self: &Rc<Self>) {
        let mut listeners = self.listeners.borrow_mut();
        for event in ["visibilitychange", "focus", "online", "pageshow"] {
            let weak = Rc::downgrade(self);
            let listener = Listener::on_window(event, move |_| {
                if let Some(core) = weak.upgrade() {
                    core.check_now();
                }
            });
            listeners.extend(listener);
        }
    }

    /// Starts the wake detector (see the module docs).
    pub(crate) fn watch_for_wake(self: &Rc<Self>) {
        let every = self.config.wake_check_every;
        if every.is_zero() {
            return;
        }
        let every_ms = u32::try_from(every.as_millis()).unwrap_or(u32::MAX);
        self.timers.last_tick.set(Some(js_sys::Date::now()));
        let weak = Rc::downgrade(self);
        let interval = Interval::new(every_ms, move || {
            let Some(core) = weak.upgrade() else { return };
            let now = js_sys::Date::now();
            let last = core.timers.last_tick.replace(Some(now)).unwrap_or(now);
            if woke_up(now - last, f64::from(every_ms)) {
                core.store.log(
                    EventKind::Woke,
                    "time jumped (sleep or a frozen tab); checking the token",
                );
                core.check_now();
            }
        });
        *self.timers.wake.borrow_mut() = Some(interval);
    }
}

/// Whether a gap of `gap_ms` between ticks of an interval of `every_ms` means the page was
/// not running: more than twice the interval plus two seconds of slack.
pub(crate) fn woke_up(gap_ms: f64, every_ms: f64) -> bool {
    gap_ms > 2.0 * every_ms + 2_000.0
}
