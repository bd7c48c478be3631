//! The cross-tab lock around everything that changes the refresh cookie.
//!
//! Refresh, sign-in and sign-out all run inside one exclusive lock per app and origin, so two
//! tabs never rotate the cookie at the same moment and a sign-in cannot be overwritten by a
//! slow refresh from another tab. Two rules keep a stuck tab from freezing the others:
//! * **waiting is bounded**: after `lock_timeout` the wait is abandoned ([`LockTimedOut`]); the
//!   caller re-checks and proceeds without the lock;
//! * **holding is bounded**: whoever holds the lock gets a [`Held`] whose deadline is
//!   `lock_timeout` after the grant, and every wait under the lock — requests, the pause
//!   after a broadcast — is cut to what is left of it, so the lock is released by then.
//!
//! Where `navigator.locks` exists it is a Web Lock ([`web_locks`]); elsewhere (older Safari,
//! some embedded browsers) a short lease in `localStorage` ([`lease`]), whose key holds no
//! secret — a random tab id and an expiry time.

use std::time::Duration;

use std::cell::Cell;
use std::rc::Rc;

use crate::config::{ClientConfig, LockMode};

mod held;
mod lease;
mod web_locks;

pub(crate) use held::{Held, Job};

pub use web_locks::web_locks_available;

/// The lock was not granted before the deadline; the work did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LockTimedOut;

enum Kind {
    WebLocks(String),
    Lease(lease::Lease),
    Off,
}

/// The cross-tab lock of one client.
pub(crate) struct CookieLock {
    kind: Kind,
    timeout: Duration,
}

impl CookieLock {
    pub(crate) fn new(config: &ClientConfig) -> CookieLock {
        let kind = match (&config.lock_name, config.lock_mode) {
            (None, _) | (_, LockMode::Off) => Kind::Off,
            (Some(name), LockMode::Auto) if web_locks_available() => Kind::WebLocks(name.clone()),
            (Some(name), _) => lease::Lease::new(name).map_or(Kind::Off, Kind::Lease),
        };
        CookieLock {
            kind,
            timeout: config.lock_timeout,
        }
    }

    /// Whether the tabs take turns through the `localStorage` lease.
    pub(crate) fn is_lease(&self) -> bool {
        matches!(self.kind, Kind::Lease(_))
    }

    /// Which lock this is (for the timeline).
    pub(crate) fn describe(&self) -> &'static str {
        match self.kind {
            Kind::WebLocks(_) => "Web Lock",
            Kind::Lease(_) => "localStorage lease",
            Kind::Off => "no lock",
        }
    }

    /// Runs `job` holding the lock and waits for it to finish; [`LockTimedOut`] if the lock
    /// was not granted in time (then `job` did not run). Not generic: one copy of the lock
    /// machinery for every caller.
    pub(crate) async fn run(&self, job: Job) -> Result<(), LockTimedOut> {
        let ran = Rc::new(Cell::new(false));
        let started = ran.clone();
        let job: Job = Box::new(move |held| {
            started.set(true);
            job(held)
        });
        match &self.kind {
            Kind::WebLocks(name) => web_locks::hold(name, self.timeout, job).await,
            Kind::Lease(lease) => lease.hold(self.timeout, job).await,
            Kind::Off => job(Held::from_now(self.timeout)).await,
        }
        // Refused or aborted at the waiting deadline: the job was dropped without running.
        if ran.get() {
            Ok(())
        } else {
            Err(LockTimedOut)
        }
    }

    /// The budget for work that runs without the lock after a timeout.
    pub(crate) fn unlocked(&self) -> Held {
        Held::from_now(self.timeout)
    }
}
