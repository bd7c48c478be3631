//! The timers of one sign-in, and the wake detector.
//!
//! [`SessionTimers`] holds three timers for the current token — the proactive refresh (at
//! `expires_in − margin`, minus a little jitter), the "session ending soon" warning, and the
//! session's end — each a [`Timer`] that is safe for any duration (a 30-day session is not
//! ended at once). A new token re-arms them; a sign-out cancels them. What they do when they
//! fire is decided where they are armed ([`crate::core`]).
//!
//! [`WakeWatch`] notices that time passed without us (a frozen background tab, a sleeping
//! machine): a slow interval compares the wall clock with when it last ran. It runs from
//! `start` to `shutdown`, whoever is signed in — never cancelled with a sign-out.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use gloo_timers::callback::Interval;

use crate::time::{millis, Timer};

/// See the module docs.
#[derive(Default)]
pub(crate) struct SessionTimers {
    proactive: RefCell<Option<Timer>>,
    warning: RefCell<Option<Timer>>,
    end: RefCell<Option<Timer>>,
}

impl SessionTimers {
    pub(crate) fn arm_proactive(&self, after: Duration, fire: impl FnOnce() + 'static) {
        *self.proactive.borrow_mut() = Some(Timer::after(after, fire));
    }

    pub(crate) fn arm_warning(&self, after: Duration, fire: impl FnOnce() + 'static) {
        *self.warning.borrow_mut() = Some(Timer::after(after, fire));
    }

    pub(crate) fn arm_end(&self, after: Duration, fire: impl FnOnce() + 'static) {
        *self.end.borrow_mut() = Some(Timer::after(after, fire));
    }

    pub(crate) fn cancel(&self) {
        self.proactive.borrow_mut().take();
        self.warning.borrow_mut().take();
        self.end.borrow_mut().take();
    }
}

/// See the module docs.
#[derive(Default)]
pub(crate) struct WakeWatch {
    interval: RefCell<Option<Interval>>,
    last_tick: std::rc::Rc<Cell<f64>>,
}

impl WakeWatch {
    /// Checks every `every`; calls `woke` after a gap that means the page was not running.
    /// Idempotent: a running watch keeps running.
    pub(crate) fn start(&self, every: Duration, woke: impl Fn() + 'static) {
        if every.is_zero() || self.interval.borrow().is_some() {
            return;
        }
        let every_ms = millis(every);
        let last_tick = self.last_tick.clone();
        last_tick.set(js_sys::Date::now());
        let interval = Interval::new(every_ms, move || {
            let now = js_sys::Date::now();
            let gap = now - last_tick.replace(now);
            if woke_up(gap, f64::from(every_ms)) {
                woke();
            }
        });
        *self.interval.borrow_mut() = Some(interval);
    }

    pub(crate) fn stop(&self) {
        self.interval.borrow_mut().take();
    }

    pub(crate) fn is_running(&self) -> bool {
        self.interval.borrow().is_some()
    }
}

/// Whether a gap of `gap_ms` between ticks of an interval of `every_ms` means the page was
/// not running: more than twice the interval plus two seconds of slack.
pub(crate) fn woke_up(gap_ms: f64, every_ms: f64) -> bool {
    gap_ms > 2.0 * every_ms + 2_000.0
}
