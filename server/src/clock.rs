//! The time, as the server's services see it: the system clock, or — in tests that simulate
//! hours of sessions or days of attack in a second — a clock the test moves. [`AppState`]
//! holds one [`Clock`] and hands it to the sessions, the users, the throttle and the security
//! events; a [`Timestamp`] is what it tells.
//!
//! [`AppState`]: crate::state::AppState

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A moment: milliseconds since the Unix epoch, as every timestamp in the database is stored
/// (`#[sqlx(transparent)]`: it binds and reads as that integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Unix ms.
    pub fn ms(self) -> i64 {
        self.0
    }

    /// `d` later (saturating).
    pub fn after(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(crate::db::ms(d)))
    }

    /// `d` earlier (saturating).
    pub fn before(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(crate::db::ms(d)))
    }

    /// How long until `later` (zero if it has passed).
    pub fn until(self, later: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(later.0 - self.0).unwrap_or(0))
    }

    /// RFC 3339, UTC, whole seconds (as the API shows times).
    pub fn rfc3339(self) -> String {
        crate::db::rfc3339(self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

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

    /// Now.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.now_ms())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_timestamps_do_arithmetic_without_overflow() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now(), Timestamp(1_000));
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now(), Timestamp(3_000));
        assert_eq!(clock.now().after(Duration::from_millis(5)).ms(), 3_005);
        assert_eq!(
            Timestamp(i64::MAX).after(Duration::from_secs(1)).ms(),
            i64::MAX
        );
        assert_eq!(Timestamp(10).until(Timestamp(5)), Duration::ZERO);
        assert_eq!(Timestamp(0).rfc3339(), "1970-01-01T00:00:00Z");
    }
}
