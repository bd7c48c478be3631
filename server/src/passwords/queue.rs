//! The Argon2 queue: bounded concurrency and a bounded, fair queue in front of every password
//! check and hash, so a flood of sign-ins or registrations can neither take every core and
//! thread away from the API nor make other users wait behind it for long.
//!
//! * at most [`QueueLimits::parallel`] runs at once (one by default: the other core keeps
//!   serving the API; runs share one working memory anyway, see [`super::argon2id`]);
//! * at most [`QueueLimits::per_address`] runs admitted (running or waiting) per client
//!   address — more from the same address is refused at once (429): one address flooding
//!   the queue only ever has that many places in it, so everybody else's wait stays short;
//! * at most [`QueueLimits::max_admitted`] admitted in all, and nobody waits longer than
//!   [`QueueLimits::max_wait`] — beyond either, the answer is 503 at once, not a pile of
//!   blocked threads (the queue is FIFO: tokio's semaphore is fair).
//!
//! A [`Slot`] is held until its Argon2 run has *finished* (it moves into the blocking task), so
//! a client that disconnects mid-run does not free a place for another run while its own still
//! occupies a core.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueLimits {
    pub parallel: usize,
    pub per_address: usize,
    pub max_admitted: usize,
    pub max_wait: Duration,
}

impl Default for QueueLimits {
    fn default() -> Self {
        QueueLimits {
            parallel: 1,
            per_address: 2,
            max_admitted: 16,
            max_wait: Duration::from_secs(3),
        }
    }
}

/// Why a password check was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("this address already has {0} password checks under way")]
    AddressBusy(usize),
    #[error("the password queue is full")]
    Full,
    #[error("no password check finished in time to make room")]
    Timeout,
}

#[derive(Clone)]
pub struct PasswordQueue {
    inner: Arc<Inner>,
}

struct Inner {
    limits: QueueLimits,
    running: Arc<Semaphore>,
    admitted: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// A place in the queue that has reached the front: hold it while Argon2 runs.
#[must_use]
pub struct Slot {
    inner: Arc<Inner>,
    addr: Option<IpAddr>,
    _permit: OwnedSemaphorePermit,
}

impl PasswordQueue {
    pub fn new(limits: QueueLimits) -> Self {
        PasswordQueue {
            inner: Arc::new(Inner {
                limits,
                running: Arc::new(Semaphore::new(limits.parallel.max(1))),
                admitted: AtomicUsize::new(0),
                per_address: Mutex::default(),
            }),
        }
    }

    /// Waits for a turn, or refuses at once (see the module docs). `addr` is `None` for work
    /// of the server itself (seeding the demo accounts).
    pub async fn admit(&self, addr: Option<IpAddr>) -> Result<Slot, Refused> {
        let inner = &self.inner;
        if let Some(addr) = addr {
            let mut map = inner
                .per_address
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let n = map.entry(addr).or_insert(0);
            if *n >= inner.limits.per_address {
                return Err(Refused::AddressBusy(*n));
            }
            *n += 1;
        }
        // From here on, `Admitted` gives the places back if we return early or are cancelled.
        let admitted = Admitted {
            inner: inner.clone(),
            addr,
        };
        if inner.admitted.fetch_add(1, Ordering::AcqRel) >= inner.limits.max_admitted {
            return Err(Refused::Full);
        }
        let permit =
            tokio::time::timeout(inner.limits.max_wait, inner.running.clone().acquire_owned())
                .await
                .map_err(|_| Refused::Timeout)?
                .map_err(|_| Refused::Full)?;
        let addr = admitted.addr;
        std::mem::forget(admitted);
        Ok(Slot {
            inner: inner.clone(),
            addr,
            _permit: permit,
        })
    }

    /// Checks admitted right now (running or waiting).
    pub fn admitted(&self) -> usize {
        self.inner.admitted.load(Ordering::Acquire)
    }
}

/// Places taken in `admit` before the turn came (released on drop).
struct Admitted {
    inner: Arc<Inner>,
    addr: Option<IpAddr>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.inner.release(self.addr);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.inner.release(self.addr);
    }
}

impl Inner {
    fn release(&self, addr: Option<IpAddr>) {
        self.admitted.fetch_sub(1, Ordering::AcqRel);
        if let Some(addr) = addr {
            let mut map = self
                .per_address
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = map.get_mut(&addr) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&addr);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ip(last: u8) -> Option<IpAddr> {
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 1, last)))
    }

    #[tokio::test]
    async fn one_address_gets_at_most_its_share_of_places_and_gets_them_back() {
        let q = PasswordQueue::new(QueueLimits {
            parallel: 2,
            per_address: 2,
            max_admitted: 10,
            max_wait: Duration::from_millis(50),
        });
        let a = q.admit(ip(1)).await.unwrap();
        let b = q.admit(ip(1)).await.unwrap();
        assert_eq!(q.admit(ip(1)).await.err(), Some(Refused::AddressBusy(2)));
        drop(a);
        let c = q.admit(ip(1)).await.unwrap();
        drop((b, c));
        assert_eq!(q.admitted(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_and_a_long_wait_are_refused_quickly_and_leave_no_place_taken() {
        let q = PasswordQueue::new(QueueLimits {
            parallel: 1,
            per_address: 5,
            max_admitted: 2,
            max_wait: Duration::from_millis(50),
        });
        let running = q.admit(ip(1)).await.unwrap();
        let started = std::time::Instant::now();
        assert_eq!(q.admit(ip(2)).await.err(), Some(Refused::Timeout));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(q.admitted(), 1);
        let waiting = tokio::spawn({
            let q = q.clone();
            async move { q.admit(ip(3)).await.is_ok() }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(q.admit(ip(4)).await.err(), Some(Refused::Full));
        drop(running);
        assert!(waiting.await.unwrap(), "the waiter gets the freed turn");
        assert_eq!(q.admitted(), 0);
    }
}
