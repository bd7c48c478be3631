//! How long to wait before the next retry: exponential, capped, jittered, and never sooner
//! than the server's `Retry-After`.

use std::time::Duration;

use crate::config::Backoff;

impl Backoff {
    /// The wait before retry number `attempt` (0 = the first retry). `random` is a number in
    /// `[0, 1)` (`Math.random()` in the client; fixed in tests): the wait is shortened by up
    /// to `jitter` of itself. `retry_after` from the server is a floor, however long.
    pub fn delay(&self, attempt: u32, random: f64, retry_after: Option<Duration>) -> Duration {
        let exponent = i32::try_from(attempt.min(32)).unwrap_or(32);
        let base = self.initial.as_secs_f64() * self.factor.max(1.0).powi(exponent);
        let capped = base.min(self.max.as_secs_f64());
        let jittered = capped * (1.0 - self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0));
        let wait = Duration::try_from_secs_f64(jittered.max(0.0)).unwrap_or(self.max);
        match retry_after {
            Some(floor) if floor > wait => floor,
            _ => wait,
        }
    }
}

/// `Math.random()`.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}
