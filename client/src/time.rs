//! The two clocks the client reads, and timers that are safe for any duration.
//!
//! **Clocks.** Token lifetimes are counted from the server's `expires_in` with the
//! **monotonic** clock (`performance.now()`), never from the token's `exp` against the local
//! wall clock (which may be wrong). But on some systems the monotonic clock stops while the
//! machine sleeps, so the client also keeps the **wall** clock (`Date.now()`) and trusts
//! whichever says more time has passed.
//!
//! **Timers.** `setTimeout` takes a signed 32-bit delay: anything above 2³¹−1 ms (24.8 days)
//! fires *at once*. A 30-day session lifetime would end the session right after sign-in, and a
//! `Retry-After` of days would retry in a loop. [`Timer`] and [`sleep`] wait in chunks of at
//! most [`MAX_TIMER_DELAY`] and re-arm until the whole duration has passed; [`millis`] is the
//! one conversion from a [`Duration`] to a timer delay, and it saturates at that maximum.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use gloo_timers::callback::Timeout;

/// A moment, on both clocks (milliseconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Instant {
    /// `performance.now()`.
    pub monotonic_ms: f64,
    /// `Date.now()`.
    pub wall_ms: f64,
}

impl Instant {
    /// Now.
    pub fn now() -> Instant {
        Instant {
            monotonic_ms: monotonic_ms(),
            wall_ms: js_sys::Date::now(),
        }
    }

    /// Milliseconds from `earlier` to `self`: the larger of the two clocks' readings (so a
    /// sleep that stopped the monotonic clock still counts), never negative.
    pub fn since(&self, earlier: &Instant) -> f64 {
        let monotonic = self.monotonic_ms - earlier.monotonic_ms;
        let wall = self.wall_ms - earlier.wall_ms;
        monotonic.max(wall).max(0.0)
    }

    /// This moment moved `ms` milliseconds later on both clocks.
    pub fn plus_ms(&self, ms: f64) -> Instant {
        Instant {
            monotonic_ms: self.monotonic_ms + ms,
            wall_ms: self.wall_ms + ms,
        }
    }

    /// Milliseconds from now until this moment (negative once passed).
    pub fn remaining_ms(&self) -> f64 {
        -Instant::now().since_signed(self)
    }

    fn since_signed(&self, earlier: &Instant) -> f64 {
        let monotonic = self.monotonic_ms - earlier.monotonic_ms;
        let wall = self.wall_ms - earlier.wall_ms;
        monotonic.max(wall)
    }
}

/// `performance.now()`, or `Date.now()` where there is no `performance`.
pub fn monotonic_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

/// The longest delay `setTimeout` honours: 2³¹−1 ms (about 24.8 days).
pub const MAX_TIMER_DELAY: Duration = Duration::from_millis(i32::MAX as u64);

/// `duration` as a timer delay in milliseconds, saturating at [`MAX_TIMER_DELAY`] (never
/// wrapping into a negative delay that fires at once).
pub fn millis(duration: Duration) -> u32 {
    let ms = duration.as_millis().min(MAX_TIMER_DELAY.as_millis());
    u32::try_from(ms).unwrap_or(i32::MAX as u32)
}

/// Milliseconds as a [`Duration`]; negative, NaN or infinite values saturate (0, or the
/// longest duration).
pub fn from_ms(ms: f64) -> Duration {
    if ms.is_nan() || ms <= 0.0 {
        Duration::ZERO
    } else if ms.is_finite() && ms < u64::MAX as f64 {
        Duration::from_millis(ms as u64)
    } else {
        Duration::MAX
    }
}

/// Waits `duration`, however long (in chunks `setTimeout` accepts).
pub async fn sleep(duration: Duration) {
    let until = Instant::now().plus_ms(duration.as_millis() as f64);
    loop {
        let left = from_ms(until.remaining_ms());
        if left.is_zero() {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(millis(left).max(1)).await;
    }
}

/// Calls a function once `duration` has passed on either clock; cancelled when dropped.
/// Longer than [`MAX_TIMER_DELAY`] it re-arms itself instead of firing early.
pub struct Timer {
    slot: Rc<RefCell<Option<Timeout>>>,
}

impl Timer {
    /// Calls `f` after `duration`.
    pub fn after(duration: Duration, f: impl FnOnce() + 'static) -> Timer {
        let slot: Rc<RefCell<Option<Timeout>>> = Rc::default();
        let until = Instant::now().plus_ms(duration.as_millis() as f64);
        arm(Rc::downgrade(&slot), until, Box::new(f));
        Timer { slot }
    }
}

fn arm(slot: std::rc::Weak<RefCell<Option<Timeout>>>, until: Instant, f: Box<dyn FnOnce()>) {
    let Some(strong) = slot.upgrade() else { return };
    let left = from_ms(until.remaining_ms());
    let next = slot.clone();
    let timeout = Timeout::new(millis(left), move || {
        if from_ms(until.remaining_ms()).is_zero() {
            if let Some(s) = next.upgrade() {
                s.borrow_mut().take();
                f();
            }
        } else {
            arm(next, until, f);
        }
    });
    *strong.borrow_mut() = Some(timeout);
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.slot.try_borrow_mut() {
            slot.take();
        }
    }
}
