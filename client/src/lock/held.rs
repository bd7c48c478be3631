//! What the holder of the cross-tab lock gets: a [`Held`] with its deadline, and the work
//! ([`Job`]) run under it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::time::Instant;

/// Holding the lock (or running without it after a timeout) until `deadline`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    pub(crate) deadline: Instant,
}

impl Held {
    pub(crate) fn from_now(budget: Duration) -> Held {
        Held {
            deadline: Instant::now().plus_ms(budget.as_millis() as f64),
        }
    }

    /// What is left of the budget.
    pub(crate) fn remaining(&self) -> Duration {
        crate::time::from_ms(self.deadline.remaining_ms())
    }
}

/// The work to run under the lock; it reports its own result.
pub(crate) type Job = Box<dyn FnOnce(Held) -> Pin<Box<dyn Future<Output = ()>>>>;
