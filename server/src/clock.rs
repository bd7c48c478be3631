//! The time, as the throttle sees it: the system clock, or — in tests that simulate days of
//! attack in a second — a clock the test moves.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    /// Unix ms, moved by whoever holds a clone.
    Manual(Arc<AtomicI64>),
}

impl Clock {
    pub fn manual(start_ms: i64) -> Clock {
        Clock::Manual(Arc::new(AtomicI64::new(start_ms)))
    }

    /// Now, in unix ms.
    pub fn now_ms(&self) -> i64 {
        match self {
            Clock::System => crate::db::now_ms(),
            Clock::Manual(at) => at.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward (the system clock moves by itself).
    pub fn advance(&self, by: std::time::Duration) {
        if let Clock::Manual(at) = self {
            at.fetch_add(crate::db::ms(by), Ordering::SeqCst);
        }
    }
}
