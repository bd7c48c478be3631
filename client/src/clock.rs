//! The two clocks the client reads.
//!
//! Token lifetimes are counted from the server's `expires_in` with the **monotonic** clock
//! (`performance.now()`), never from the token's `exp` against the local wall clock (which may
//! be wrong). But on some systems the monotonic clock stops while the machine sleeps, so the
//! client also keeps the **wall** clock (`Date.now()`) and trusts whichever says more time
//! has passed.

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
}

/// `performance.now()`, or `Date.now()` where there is no `performance`.
pub fn monotonic_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}
