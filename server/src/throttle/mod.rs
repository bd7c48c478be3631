//! Sign-in and registration throttling, counted in the database — so every instance sees every
//! attempt — and decided *before* the password is checked.
//!
//! ## The rules ([`rules`])
//! An attempt is counted against some keys; each key allows some free attempts, then blocks
//! for 1 s, 2 s, 4 s, … up to its longest block. A refused attempt counts too: hammering a
//! block only makes the next one longer. A counter is forgotten only after a quiet period of
//! several longest blocks, so escalation survives the wait for a block to end — the ceiling is
//! real: 108 guesses at one account on the first day, then one a day (13, then one a day, with
//! a stolen device cookie) — simulated over a week by `server/tests/throttle_over_days.rs`.
//!
//! | key | counts | free | longest block | forgotten after | cleared by |
//! |---|---|---|---|---|---|
//! | account + address | sign-ins | 5 | 1 h | 1 day | a success of that account from that address |
//! | address | sign-ins, any account | 20 | 15 min | 1 h | nothing (a success only takes back its own attempt) |
//! | account, untrusted clients | sign-ins without this account's device cookie | 100 | 1 day | 7 days | a success of that account (NIST counts consecutive failures) |
//! | device cookie | sign-ins with that cookie | 5 | 1 day | 7 days | a success with it |
//! | registration address | every registration attempt | 20 | 15 min | 1 h | nothing |
//!
//! A client that presents a valid device cookie for the account ([`crate::trusted_devices`],
//! OWASP's device-cookie pattern) is counted only against its cookie: a distributed attack that
//! blocks the account for untrusted clients does not lock its owner's known devices out.
//!
//! ## Reserve, then check
//! [`Throttle::reserve`] counts the attempt as a failure *before* Argon2 runs, in one
//! transaction that also refuses it if any key is blocked. So a burst of concurrent guesses
//! gets at most the free number of password checks — the rest are refused without one.
//! A success then takes its reservation back ([`Throttle::succeeded`]), and with it a block
//! its own attempt set.
//!
//! Each key is one upsert (`INSERT … ON CONFLICT DO UPDATE … RETURNING`); keys are taken in a
//! fixed order, so concurrent attempts on several instances neither lose counts nor deadlock.
//!
//! ## Refusing without the database
//! Each instance remembers the blocks it has seen until they end ([`blocks::Blocks`]): an
//! attacker hammering a blocked key is refused from memory, so a flood of refusals costs no
//! database round trip (and other users' requests do not queue behind it); those refusals are
//! added to the key's count at its next attempt that reaches the database. The database stays
//! the truth: a key not remembered here is checked there.

mod blocks;
pub mod rules;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::{Clock, Timestamp};
use crate::db::{ms, rfc3339, Db, DbError};
use crate::security_events::{Client, Event, Kind, Recorded, SecurityEvents};
use blocks::Blocks;
pub use rules::{
    block_after, retry_after_secs, Attempt, Rule, ACCOUNT_UNTRUSTED, ADDRESS, DEVICE,
    LONGEST_MEMORY, PAIR, REGISTER,
};
use rules::{register_key, sign_in_keys, Key, OnSuccess};

/// The prune job's delete: `$1` = quiet since, `$2` = now (indexed: migration 0004).
pub const PRUNE: &str = "DELETE FROM login_throttle WHERE last_failure < $1 AND blocked_until < $2";

#[derive(Clone)]
pub struct Throttle {
    db: Db,
    blocks: Arc<Blocks>,
    clock: Clock,
    events: Option<SecurityEvents>,
}

/// The account an attempt is at, and where it came from: a block that pauses its sign-ins
/// is recorded as a security event of that account.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub user_id: crate::ids::UserId,
    pub client: &'a Client,
}

/// An attempt counted as a failure until [`Throttle::succeeded`] takes it back.
#[derive(Debug)]
#[must_use = "a reservation is a counted failure unless taken back"]
pub struct Reservation {
    keys: Vec<Counted>,
    /// The `sign_in_blocked` events of the blocks this attempt set on its account's keys,
    /// written with the blocks. A success lifts the blocks and withdraws their events in the
    /// same transaction; a failure ([`Throttle::failed`]) logs them.
    blocks: Recorded,
}

/// One key's share of a reservation: what to undo if the attempt is taken back.
#[derive(Debug)]
struct Counted {
    key: String,
    rule: Rule,
    on_success: OnSuccess,
    /// The key's block before this attempt (0: none), and the one this attempt set (0: none).
    blocked_until_before: i64,
    blocked_until_set: i64,
}

/// What a block on `key` pauses, if it concerns one account: its sign-ins from one address, from
/// every client without its device cookie, or with one device cookie. `None` for the address
/// keys (many accounts, or none).
fn blocked_scope(key: &str) -> Option<&'static str> {
    let (kind, _) = key.split_once(':')?;
    match kind {
        "pair" => Some("account_from_address"),
        "acct" => Some("account"),
        "device" => Some("device"),
        _ => None,
    }
}

/// A counter's answer to an attempt, read by name.
#[derive(sqlx::FromRow)]
struct CountRow {
    failures: i64,
    blocked_until: i64,
}

/// A key that refused an attempt: until when, and the refusals remembered for it.
struct Refused<'a> {
    key: &'a str,
    until: i64,
    pending: i64,
}

/// From `now` until the block ending at `until` (both unix ms).
fn wait_until(until: i64, now: i64) -> Duration {
    Duration::from_millis(u64::try_from(until - now).unwrap_or(1000))
}

impl Throttle {
    /// A throttle on `clock` that records the blocks it sets on an account in `events`.
    pub fn new(db: Db, events: SecurityEvents, clock: Clock) -> Self {
        Throttle {
            events: Some(events),
            ..Throttle::with_clock(db, clock)
        }
    }

    /// A throttle on another clock (tests simulate days of attack with [`Clock::manual`]).
    pub fn with_clock(db: Db, clock: Clock) -> Self {
        Throttle {
            db,
            blocks: Arc::default(),
            clock,
            events: None,
        }
    }

    /// Counts a sign-in attempt as a failure before the password is checked, or refuses it
    /// (`Err(retry_after)`; the refusal counts on the blocked keys only) if any key is blocked.
    pub async fn reserve(
        &self,
        attempt: &Attempt<'_>,
    ) -> Result<Result<Reservation, Duration>, DbError> {
        self.count(&sign_in_keys(attempt), None).await
    }

    /// [`Throttle::reserve`] for an attempt at an existing account: the first block it sets
    /// on that account's keys is recorded as a `sign_in_blocked` event.
    pub async fn reserve_for(
        &self,
        attempt: &Attempt<'_>,
        subject: Subject<'_>,
    ) -> Result<Result<Reservation, Duration>, DbError> {
        self.count(&sign_in_keys(attempt), Some(subject)).await
    }

    /// Counts a registration attempt from `addr`, or refuses it (`Err(retry_after)`).
    pub async fn register_attempt(&self, addr: IpAddr) -> Result<Result<(), Duration>, DbError> {
        Ok(self.count(&[register_key(addr)], None).await?.map(|_| ()))
    }

    /// Counts an attempt on every key (or, if one is blocked, a refusal on the blocked ones
    /// only). What this instance remembers changes only after the database has: a refusal on
    /// one key sets no block in memory on the others.
    async fn count(
        &self,
        keys: &[Key],
        subject: Option<Subject<'_>>,
    ) -> Result<Result<Reservation, Duration>, DbError> {
        let now = self.clock.now_ms();
        if let Some(until) = self.blocks.refuse(keys, now) {
            return Ok(Err(wait_until(until, now)));
        }
        // Refusals answered from memory since the last visit count now, with this attempt.
        let pending: Vec<i64> = keys
            .iter()
            .map(|k| self.blocks.take_refusals(&k.name))
            .collect();
        let mut tx = self.db.begin().await?;
        let mut refused: Vec<Refused<'_>> = Vec::new();
        let mut counted = Vec::with_capacity(keys.len());
        let mut blocks = Recorded::default();
        for (counter, pending) in keys.iter().zip(&pending) {
            let (key, rule) = (&counter.name, &counter.rule);
            let row: CountRow = sqlx::query_as(
                "INSERT INTO login_throttle (key, failures, last_failure, blocked_until)
                 VALUES ($1, $4, $2, 0)
                 ON CONFLICT (key) DO UPDATE SET
                     failures = CASE WHEN login_throttle.last_failure < $3
                                      AND login_throttle.blocked_until <= $2 THEN $4
                                     ELSE login_throttle.failures + $4 END,
                     last_failure = $2
                 RETURNING failures, blocked_until",
            )
            .bind(key)
            .bind(now)
            .bind(now - ms(rule.forget_after))
            .bind(1 + pending)
            .fetch_one(&mut *tx)
            .await?;
            let CountRow {
                failures,
                blocked_until,
            } = row;
            if blocked_until > now {
                refused.push(Refused {
                    key,
                    until: blocked_until,
                    pending: *pending,
                });
                continue;
            }
            let block = block_after(failures, *rule);
            let set = if block.is_zero() { 0 } else { now + ms(block) };
            if set > 0 {
                sqlx::query("UPDATE login_throttle SET blocked_until = $1 WHERE key = $2")
                    .bind(set)
                    .bind(key)
                    .execute(&mut *tx)
                    .await?;
                // The first block of an escalation pauses the account's sign-ins: tell its
                // owner (the longer blocks after it are the same story).
                let first = block_after(failures - (1 + pending), *rule).is_zero();
                if let (true, Some(which), Some(subject), Some(events)) =
                    (first, blocked_scope(key), subject, &self.events)
                {
                    let event =
                        Event::new(Kind::SignInBlocked, Timestamp(now), Some(subject.user_id))
                            .client(subject.client)
                            .detail(format!("{which} until={}", rfc3339(set)));
                    blocks = blocks.and(events.record(&mut tx, event).await?);
                }
            }
            counted.push(Counted {
                key: key.clone(),
                rule: *rule,
                on_success: counter.on_success,
                blocked_until_before: blocked_until,
                blocked_until_set: set,
            });
        }
        if let Some(until) = refused.iter().map(|r| r.until).max() {
            // A refused attempt counts on the keys that refused it, not on the others (it was
            // no password check): undo the rest; their taken refusals go back to memory.
            tx.rollback().await?;
            for (counter, pending) in keys.iter().zip(&pending) {
                if !refused.iter().any(|r| r.key == counter.name) {
                    self.blocks.give_back_refusals(&counter.name, *pending);
                }
            }
            self.count_refusal(&refused, now).await?;
            for r in &refused {
                self.blocks.remember(r.key, r.until, now);
            }
            return Ok(Err(wait_until(until, now)));
        }
        tx.commit().await?;
        for c in &counted {
            if c.blocked_until_set > 0 {
                self.blocks.remember(&c.key, c.blocked_until_set, now);
            }
        }
        Ok(Ok(Reservation {
            keys: counted,
            blocks,
        }))
    }

    /// The refusal (and the refusals remembered before it) on each blocked key.
    async fn count_refusal(&self, refused: &[Refused<'_>], now: i64) -> Result<(), DbError> {
        let mut tx = self.db.begin().await?;
        for r in refused {
            sqlx::query(
                "UPDATE login_throttle SET failures = failures + $3, last_failure = $2
                 WHERE key = $1",
            )
            .bind(r.key)
            .bind(now)
            .bind(1 + r.pending)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A failed attempt: its reservation stays counted (and the blocks it set stay, so their
    /// events are logged now), and `failure` — the account's `sign_in_failed`, if the name is
    /// an account — is recorded.
    pub async fn failed(
        &self,
        reservation: Reservation,
        failure: Option<Event>,
    ) -> Result<(), DbError> {
        reservation.blocks.log();
        let (Some(events), Some(failure)) = (&self.events, failure) else {
            return Ok(());
        };
        let mut tx = self.db.begin().await?;
        let recorded = events.record(&mut tx, failure).await?;
        tx.commit().await?;
        recorded.log();
        Ok(())
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
        // The blocks this attempt set are lifted below: their events go with them.
        for id in reservation.blocks.ids() {
            sqlx::query("DELETE FROM security_events WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        for c in &reservation.keys {
            if success && c.on_success == OnSuccess::Clear {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                    .bind(&c.key)
                    .execute(&mut *tx)
                    .await?;
            } else {
                // The attempt is no failure after all: its count goes, and so does a block it
                // set (unless something since replaced that block).
                sqlx::query(
                    "UPDATE login_throttle SET
                         failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END,
                         blocked_until = CASE WHEN $3 > 0 AND blocked_until = $3 THEN $4
                                              WHEN failures - 1 < $2 THEN 0
                                              ELSE blocked_until END
                     WHERE key = $1",
                )
                .bind(&c.key)
                .bind(c.rule.free_failures)
                .bind(c.blocked_until_set)
                .bind(c.blocked_until_before)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        for c in &reservation.keys {
            // The block this attempt set is lifted: let the database decide again.
            self.blocks.forget(&c.key);
        }
        Ok(())
    }

    /// Deletes counters quiet for longer than any rule remembers and not blocking ([`PRUNE`]).
    /// Returns how many.
    pub async fn prune(&self, now: Timestamp) -> Result<u64, DbError> {
        Ok(sqlx::query(PRUNE)
            .bind(now.before(LONGEST_MEMORY))
            .bind(now)
            .execute(&self.db.pool)
            .await?
            .rows_affected())
    }
}
