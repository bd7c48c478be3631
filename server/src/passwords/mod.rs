//! Passwords: Argon2id hashing and verification ([`argon2id`]), run on the blocking pool
//! behind a bounded, fair queue ([`queue`]).
//!
//! Unknown usernames are checked against a dummy hash made at start-up, so "no such user" and
//! "wrong password" take the same time and cannot be told apart.

pub mod argon2id;
pub mod queue;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

pub use argon2id::hash_blocking;
pub use queue::{PasswordQueue, QueueLimits, Refused};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("{0}")]
    Busy(#[from] Refused),
}

#[derive(Clone)]
pub struct Passwords {
    dummy_hash: Arc<str>,
    queue: PasswordQueue,
    /// Argon2 runs done for clients since start (for tests and figures).
    runs: Arc<AtomicU64>,
}

impl Passwords {
    /// Makes the dummy hash used for unknown users (one Argon2 run, ~30 ms in a release build),
    /// once per process: every `Passwords` of the process shares it.
    pub fn new(limits: QueueLimits) -> Result<Self, PasswordError> {
        static DUMMY: OnceLock<Arc<str>> = OnceLock::new();
        let dummy_hash = match DUMMY.get() {
            Some(hash) => hash.clone(),
            None => {
                let hash: Arc<str> = hash_blocking("tokenpair-dummy-password")?.into();
                DUMMY.get_or_init(|| hash).clone()
            }
        };
        Ok(Passwords {
            dummy_hash,
            queue: PasswordQueue::new(limits),
            runs: Arc::default(),
        })
    }

    /// Hashes a new password, waiting for a turn in the queue (`addr`: who asks; `None` for
    /// the server itself).
    pub async fn hash(
        &self,
        addr: Option<IpAddr>,
        password: String,
    ) -> Result<String, PasswordError> {
        self.in_turn(addr, move || argon2id::hash_blocking(&password))
            .await?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no user,
    /// so both cases cost one Argon2 run. Returns true only for a real user's right password.
    pub async fn verify(
        &self,
        addr: Option<IpAddr>,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        let is_real = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = self
            .in_turn(addr, move || argon2id::verify_blocking(&password, &phc))
            .await?;
        Ok(is_real && ok)
    }

    /// Runs one Argon2 job on the blocking pool once the queue gives `addr` its turn. The
    /// place is held until the job has finished, even if the caller stops waiting.
    async fn in_turn<T: Send + 'static>(
        &self,
        addr: Option<IpAddr>,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let slot = self.queue.admit(addr).await?;
        self.runs.fetch_add(1, Ordering::Relaxed);
        Ok(tokio::task::spawn_blocking(move || {
            let _slot = slot;
            job()
        })
        .await?)
    }

    pub fn queue(&self) -> &PasswordQueue {
        &self.queue
    }

    /// How many Argon2 runs (hash or verify) were started since start-up.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_user_never_verifies_even_with_the_dummy_password() {
        let p = Passwords::new(QueueLimits::default()).unwrap();
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        assert!(!p
            .verify(Some(ip), "tokenpair-dummy-password".into(), None)
            .await
            .unwrap());
    }
}
