//! Sign-in and registration throttling, counted in the database — so every instance sees every
//! attempt — and decided *before* the password is checked.
//!
//! ## The rules
//! An attempt is counted against some keys; each key allows some free failures, then blocks
//! for 1 s, 2 s, 4 s, … up to a ceiling. Counters restart after [`QUIET_RESET`] without a
//! failure. Nothing is permanent.
//!
//! | key | counts | free | longest block | cleared by |
//! |---|---|---|---|---|
//! | account + address | failed sign-ins | 5 | 15 min | a success of that account from that address |
//! | address | failed sign-ins, any account | 20 | 15 min | nothing (a success only takes back its own attempt) |
//! | account, untrusted clients | failed sign-ins without this account's device cookie | 100 | 15 min | nothing (idem) |
//! | device cookie | failed sign-ins with that cookie | 5 | 15 min | a success with it |
//! | registration address | every registration attempt | 20 | 15 min | nothing |
//!
//! A client that presents a valid device cookie for the account ([`crate::trusted_devices`],
//! OWASP's device-cookie pattern) is counted only against its cookie: a distributed attack that
//! blocks the account for untrusted clients does not lock its owner's known devices out.
//!
//! ## Reserve, then check
//! [`Throttle::reserve`] counts the attempt as a failure *before* Argon2 runs, in one
//! transaction that also refuses it if any key is blocked. So a burst of concurrent guesses
//! gets at most the free number of password checks — the rest are refused without one.
//! A success then takes its reservation back ([`Reservation::succeeded`]).
//!
//! Each key is one upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`); keys are taken in a
//! fixed order, so concurrent attempts on several instances neither lose counts nor deadlock.
//!
//! ## Refusing without the database
//! Each instance remembers the blocks it has seen until they end ([`Blocks`]): an attacker
//! hammering a blocked key is refused from memory, so a flood of refusals costs no database
//! round trip (and other users' requests do not queue behind it). The database stays the
//! truth: a key not remembered here is checked there.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::Row;

use crate::db::{ms, now_ms, Db, DbError};

/// The prune job's delete: `$1` = quiet since, `$2` = now (indexed: migration 0004).
pub const PRUNE: &str = "DELETE FROM login_throttle WHERE last_failure < $1 AND blocked_until < $2";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub free_failures: i64,
    pub max_block: Duration,
}

const fn rule(free_failures: i64, max_block_s: u64) -> Rule {
    Rule {
        free_failures,
        max_block: Duration::from_secs(max_block_s),
    }
}

pub const PAIR: Rule = rule(5, 15 * 60);
pub const ADDRESS: Rule = rule(20, 15 * 60);
/// NIST SP 800-63B §5.2.2: no more than 100 consecutive failed attempts on one account.
pub const ACCOUNT_UNTRUSTED: Rule = rule(100, 15 * 60);
pub const DEVICE: Rule = rule(5, 15 * 60);
pub const REGISTER: Rule = rule(20, 15 * 60);
/// Counters of keys with no failure for this long restart from zero (and are pruned).
pub const QUIET_RESET: Duration = Duration::from_secs(15 * 60);

/// Who is attempting a sign-in.
#[derive(Debug, Clone)]
pub enum Attempt<'a> {
    /// No valid device cookie for the account.
    Untrusted { username: &'a str, addr: IpAddr },
    /// A valid device cookie for the account (its nonce).
    TrustedDevice { nonce: &'a str },
}

#[derive(Clone)]
pub struct Throttle {
    db: Db,
    blocks: Arc<Blocks>,
}

/// Blocks this instance has seen, key → end (unix ms). Bounded: expired entries are dropped
/// when it grows, and it is emptied if that is not enough.
#[derive(Default)]
pub struct Blocks(Mutex<HashMap<String, i64>>);

const MAX_REMEMBERED_BLOCKS: usize = 10_000;

impl Blocks {
    /// The latest end of a remembered block among `keys`, if one is still running.
    fn until(&self, keys: &[(String, Rule, bool)], now: i64) -> Option<i64> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter()
            .filter_map(|(k, _, _)| map.get(k).copied())
            .filter(|until| *until > now)
            .max()
    }

    fn remember(&self, key: &str, until: i64, now: i64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_REMEMBERED_BLOCKS {
            map.retain(|_, u| *u > now);
            if map.len() >= MAX_REMEMBERED_BLOCKS {
                map.clear();
            }
        }
        map.insert(key.to_owned(), until);
    }

    fn forget(&self, key: &str) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

/// An attempt counted as a failure until [`Reservation::succeeded`] takes it back.
#[derive(Debug)]
#[must_use = "a reservation is a counted failure unless taken back"]
pub struct Reservation {
    /// (key, rule, cleared by a success?)
    keys: Vec<(String, Rule, bool)>,
}

/// The account part of a key: the same normalized name the account is found by
/// ([`crate::users::credentials::name_key`]).
fn account(username: &str) -> String {
    // NUL is not storable in PostgreSQL text; no real account name has one anyway.
    crate::users::credentials::name_key(username).replace('\0', "\\0")
}

fn sign_in_keys(attempt: &Attempt<'_>) -> Vec<(String, Rule, bool)> {
    let mut keys = match attempt {
        Attempt::Untrusted { username, addr } => {
            let user = account(username);
            vec![
                (format!("pair:{user}|{addr}"), PAIR, true),
                (format!("addr:{addr}"), ADDRESS, false),
                (format!("acct:{user}"), ACCOUNT_UNTRUSTED, false),
            ]
        }
        Attempt::TrustedDevice { nonce } => vec![(format!("device:{nonce}"), DEVICE, true)],
    };
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys
}

/// How long the `failures`-th failure blocks under `rule` (zero while failures are free).
pub fn block_after(failures: i64, rule: Rule) -> Duration {
    if failures < rule.free_failures {
        return Duration::ZERO;
    }
    let exp = (failures - rule.free_failures).clamp(0, 20) as u32;
    Duration::from_secs(1u64 << exp).min(rule.max_block)
}

/// From `now` until the block ending at `until` (both unix ms).
fn wait_until(until: i64, now: i64) -> Duration {
    Duration::from_millis(u64::try_from(until - now).unwrap_or(1000))
}

/// Whole seconds to wait, at least 1 (for `Retry-After`).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl Throttle {
    pub fn new(db: Db) -> Self {
        Throttle {
            db,
            blocks: Arc::default(),
        }
    }

    /// Counts a sign-in attempt as a failure before the password is checked, or refuses it
    /// (`Err(retry_after)`, nothing counted) if any of its keys is blocked.
    pub async fn reserve(
        &self,
        attempt: &Attempt<'_>,
    ) -> Result<Result<Reservation, Duration>, DbError> {
        let keys = sign_in_keys(attempt);
        Ok(self.count(&keys).await?.map(|()| Reservation { keys }))
    }

    /// Counts a registration attempt from `addr`, or refuses it (`Err(retry_after)`).
    pub async fn register_attempt(&self, addr: IpAddr) -> Result<Result<(), Duration>, DbError> {
        self.count(&[(format!("register:{addr}"), REGISTER, false)])
            .await
    }

    async fn count(&self, keys: &[(String, Rule, bool)]) -> Result<Result<(), Duration>, DbError> {
        let now = now_ms();
        if let Some(until) = self.blocks.until(keys, now) {
            return Ok(Err(wait_until(until, now)));
        }
        let quiet = now - ms(QUIET_RESET);
        let mut tx = self.db.begin().await?;
        let mut refused_until = 0i64;
        for (key, rule, _) in keys {
            // A blocked key keeps its count (refused attempts are not failures: an attacker
            // cannot stretch a block by hammering it); otherwise the attempt is counted.
            let row = sqlx::query(
                "INSERT INTO login_throttle (key, failures, last_failure, blocked_until)
                 VALUES ($1, 1, $2, 0)
                 ON CONFLICT (key) DO UPDATE SET
                     failures = CASE WHEN login_throttle.blocked_until > $2 THEN login_throttle.failures
                                     WHEN login_throttle.last_failure < $3 THEN 1
                                     ELSE login_throttle.failures + 1 END,
                     last_failure = CASE WHEN login_throttle.blocked_until > $2 THEN login_throttle.last_failure
                                         ELSE $2 END
                 RETURNING failures, blocked_until",
            )
            .bind(key)
            .bind(now)
            .bind(quiet)
            .fetch_one(&mut *tx)
            .await?;
            let failures: i64 = row.try_get(0)?;
            let blocked_until: i64 = row.try_get(1)?;
            if blocked_until > now {
                self.blocks.remember(key, blocked_until, now);
                refused_until = refused_until.max(blocked_until);
                continue;
            }
            let block = block_after(failures, *rule);
            if !block.is_zero() {
                self.blocks.remember(key, now + ms(block), now);
                sqlx::query("UPDATE login_throttle SET blocked_until = $1 WHERE key = $2")
                    .bind(now + ms(block))
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if refused_until > 0 {
            // Nothing of a refused attempt is counted.
            tx.rollback().await?;
            return Ok(Err(wait_until(refused_until, now)));
        }
        tx.commit().await?;
        Ok(Ok(()))
    }

    /// Takes a reservation back without judging it (the password was never checked: the
    /// server was too busy). Every key gets its attempt back.
    pub async fn not_checked(&self, reservation: Reservation) -> Result<(), DbError> {
        self.take_back(reservation, false).await
    }

    /// A successful sign-in: keys cleared by a success are deleted, the others get this
    /// attempt back (so a success on one account does not wipe the failures on others).
    pub async fn succeeded(&self, reservation: Reservation) -> Result<(), DbError> {
        self.take_back(reservation, true).await
    }

    async fn take_back(&self, reservation: Reservation, success: bool) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        for (key, rule, cleared_by_success) in &reservation.keys {
            // A block this attempt set may be lifted now: let the database decide again.
            self.blocks.forget(key);
            if success && *cleared_by_success {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
            } else {
                sqlx::query(
                    "UPDATE login_throttle SET
                         failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END,
                         blocked_until = CASE WHEN failures - 1 < $2 THEN 0 ELSE blocked_until END
                     WHERE key = $1",
                )
                .bind(key)
                .bind(rule.free_failures)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes counters that are quiet and not blocking ([`PRUNE`]). Returns how many.
    pub async fn prune(&self, now: i64) -> Result<u64, DbError> {
        Ok(sqlx::query(PRUNE)
            .bind(now - ms(QUIET_RESET))
            .bind(now)
            .execute(&self.db.pool)
            .await?
            .rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_pair_failures_block_for_one_second_then_the_block_doubles_up_to_a_ceiling() {
        assert_eq!(block_after(4, PAIR), Duration::ZERO);
        assert_eq!(block_after(5, PAIR), Duration::from_secs(1));
        assert_eq!(block_after(6, PAIR), Duration::from_secs(2));
        assert_eq!(block_after(7, PAIR), Duration::from_secs(4));
        assert_eq!(block_after(40, PAIR), PAIR.max_block);
        assert_eq!(
            block_after(10_000, ACCOUNT_UNTRUSTED),
            ACCOUNT_UNTRUSTED.max_block
        );
    }

    #[test]
    fn the_address_and_account_limits_are_looser_than_the_pair() {
        assert_eq!(block_after(19, ADDRESS), Duration::ZERO);
        assert_eq!(block_after(20, ADDRESS), Duration::from_secs(1));
        assert_eq!(block_after(99, ACCOUNT_UNTRUSTED), Duration::ZERO);
    }

    #[test]
    fn counters_are_case_insensitive_on_the_account_and_a_trusted_device_counts_only_itself() {
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        let keys = |u| {
            sign_in_keys(&Attempt::Untrusted {
                username: u,
                addr: ip,
            })
        };
        assert_eq!(keys("ALICE"), keys("alice"));
        assert_eq!(keys("alice").len(), 3);
        let device = sign_in_keys(&Attempt::TrustedDevice { nonce: "n1" });
        assert_eq!(device.len(), 1);
        assert!(device[0].0.starts_with("device:"));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
