//! Without Web Locks: a lease in `localStorage`.
//!
//! The key (the lock's name) holds `"<tab id> <expiry ms>"` — no secret. To take the lease a
//! tab writes its id if the key is empty, expired or already its own, waits a moment for
//! concurrent writers, and reads it back: only the tab whose id survived holds it. The
//! expiry is the holding deadline plus a second, so a tab that dies holding it blocks the
//! others for at most that long. Waiting tabs poll with jitter. Rare overlaps (two tabs that
//! both read their own id back across processes) are covered by the server's refresh grace
//! window, as an overlap after a lock timeout is.

use std::time::Duration;

use super::held::{Held, Job};
use crate::backoff::random;
use crate::time::{sleep, Instant};

/// `Date.now()` in whole milliseconds.
fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

pub(super) struct Lease {
    key: String,
    owner: String,
    storage: web_sys::Storage,
}

impl Lease {
    /// A lease under `name`; `None` without `localStorage`.
    pub(super) fn new(name: &str) -> Option<Lease> {
        let storage = web_sys::window()?.local_storage().ok()??;
        // A random id: `Math.random()` in base 36.
        let owner = String::from(
            js_sys::Number::from(random())
                .to_string_with_radix(36)
                .ok()?,
        );
        Some(Lease {
            key: [name, ":lease"].concat(),
            owner,
            storage,
        })
    }

    /// Who holds the lease, and until when (ms). (`parseInt`: no number parser in the wasm.)
    fn holder(&self) -> Option<(String, f64)> {
        let value = self.storage.get_item(&self.key).ok()??;
        let (owner, until) = value.split_once(' ')?;
        let until = js_sys::Number::parse_int(until, 10);
        (!until.is_nan()).then(|| (owner.to_owned(), until))
    }

    async fn try_take(&self, timeout: Duration) -> bool {
        let free = match self.holder() {
            None => true,
            Some((owner, until)) => owner == self.owner || until < js_sys::Date::now(),
        };
        if !free {
            return false;
        }
        let until = now_ms().saturating_add(timeout.as_millis() as u64 + 1_000);
        let value = [self.owner.as_str(), " ", &until.to_string()].concat();
        if self.storage.set_item(&self.key, &value).is_err() {
            return false;
        }
        // Another tab may have written at the same moment: the last write wins.
        sleep(Duration::from_millis(15 + (random() * 15.0) as u64)).await;
        self.holder().is_some_and(|(owner, _)| owner == self.owner)
    }

    /// Takes the lease (waiting at most `timeout`), runs `job` for at most `timeout`, and
    /// gives the lease back. Not taken in time: `job` is dropped without running.
    pub(super) async fn hold(&self, timeout: Duration, job: Job) {
        let started = Instant::now();
        loop {
            if self.try_take(timeout).await {
                break;
            }
            if Instant::now().since(&started) >= timeout.as_millis() as f64 {
                return;
            }
            sleep(Duration::from_millis(20 + (random() * 40.0) as u64)).await;
        }
        job(Held::from_now(timeout)).await;
        if self.holder().is_some_and(|(owner, _)| owner == self.owner) {
            let _ = self.storage.remove_item(&self.key);
        }
    }
}
