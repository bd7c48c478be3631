//! Failed-login throttling with exponential backoff, per account and per client address,
//! counted in the database — so every instance sees every failure.
//!
//! Three counters are kept for each attempt: the client address, the (account, address) pair
//! and the account alone. Each allows some free failures, then blocks for 1 s, 2 s, 4 s, …
//! up to a ceiling. The tight limit is on the pair, so one attacker cannot lock a user out
//! from everywhere; the account-wide limit is loose and only slows distributed guessing.
//! Nothing is permanent: blocks expire, and counters restart after a quiet period.
//!
//! A failure is one upsert per counter (`INSERT … ON CONFLICT DO UPDATE … RETURNING`), so
//! concurrent failures on several instances are all counted.

use std::net::IpAddr;
use std::time::Duration;

use sqlx::Row;

use crate::db::{ms, now_ms, Db, DbError};

#[derive(Debug, Clone, Copy)]
struct Rule {
    free_failures: i64,
    max_block: Duration,
}

const PAIR: Rule = Rule {
    free_failures: 5,
    max_block: Duration::from_secs(15 * 60),
};
const ADDRESS: Rule = Rule {
    free_failures: 20,
    max_block: Duration::from_secs(15 * 60),
};
const ACCOUNT: Rule = Rule {
    free_failures: 50,
    max_block: Duration::from_secs(5 * 60),
};
/// Counters of keys with no failure for this long restart from zero (and are pruned).
pub const QUIET_RESET: Duration = Duration::from_secs(15 * 60);

#[derive(Clone)]
pub struct Throttle {
    db: Db,
}

fn keys(username: &str, addr: IpAddr) -> [(String, Rule); 3] {
    // NUL is not storable in PostgreSQL text; no real account name has one anyway.
    let user = username.to_lowercase().replace('\0', "\\0");
    [
        (format!("pair:{user}|{addr}"), PAIR),
        (format!("addr:{addr}"), ADDRESS),
        (format!("acct:{user}"), ACCOUNT),
    ]
}

/// How long the `failures`-th failure blocks under `rule` (zero while failures are free).
fn block_after(failures: i64, rule: Rule) -> Duration {
    if failures < rule.free_failures {
        return Duration::ZERO;
    }
    let exp = (failures - rule.free_failures).clamp(0, 20) as u32;
    Duration::from_secs(1u64 << exp).min(rule.max_block)
}

impl Throttle {
    pub fn new(db: Db) -> Self {
        Throttle { db }
    }

    /// `Err(retry_after)` if this attempt must be refused without checking the password.
    pub async fn check(
        &self,
        username: &str,
        addr: IpAddr,
    ) -> Result<Result<(), Duration>, DbError> {
        let now = now_ms();
        let [(a, _), (b, _), (c, _)] = keys(username, addr);
        let until: Option<i64> =
            sqlx::query("SELECT MAX(blocked_until) FROM login_throttle WHERE key IN ($1, $2, $3)")
                .bind(a)
                .bind(b)
                .bind(c)
                .fetch_one(&self.db.pool)
                .await?
                .try_get(0)?;
        Ok(match until {
            Some(until) if until > now => Err(Duration::from_millis((until - now) as u64)),
            _ => Ok(()),
        })
    }

    /// Counts a failure against all three keys.
    pub async fn record_failure(&self, username: &str, addr: IpAddr) -> Result<(), DbError> {
        let now = now_ms();
        let quiet = now - ms(QUIET_RESET);
        let mut tx = self.db.begin().await?;
        for (key, rule) in keys(username, addr) {
            let failures: i64 = sqlx::query(
                "INSERT INTO login_throttle (key, failures, last_failure, blocked_until)
                 VALUES ($1, 1, $2, 0)
                 ON CONFLICT (key) DO UPDATE SET
                     failures = CASE WHEN login_throttle.last_failure < $3 THEN 1
                                     ELSE login_throttle.failures + 1 END,
                     last_failure = $2
                 RETURNING failures",
            )
            .bind(&key)
            .bind(now)
            .bind(quiet)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let block = block_after(failures, rule);
            if !block.is_zero() {
                sqlx::query("UPDATE login_throttle SET blocked_until = $1 WHERE key = $2")
                    .bind(now + ms(block))
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A successful sign-in clears the pair and the address, not the account-wide counter.
    pub async fn record_success(&self, username: &str, addr: IpAddr) -> Result<(), DbError> {
        let [(pair, _), (address, _), _] = keys(username, addr);
        sqlx::query("DELETE FROM login_throttle WHERE key IN ($1, $2)")
            .bind(pair)
            .bind(address)
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// Deletes counters that are quiet and not blocking. Returns how many.
    pub async fn prune(&self, now: i64) -> Result<u64, DbError> {
        Ok(
            sqlx::query(
                "DELETE FROM login_throttle WHERE last_failure < $1 AND blocked_until < $2",
            )
            .bind(now - ms(QUIET_RESET))
            .bind(now)
            .execute(&self.db.pool)
            .await?
            .rows_affected(),
        )
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
        assert_eq!(block_after(10_000, ACCOUNT), ACCOUNT.max_block);
    }

    #[test]
    fn the_address_and_account_limits_are_looser_than_the_pair() {
        assert_eq!(block_after(19, ADDRESS), Duration::ZERO);
        assert_eq!(block_after(20, ADDRESS), Duration::from_secs(1));
        assert_eq!(block_after(49, ACCOUNT), Duration::ZERO);
    }

    #[test]
    fn counters_are_case_insensitive_on_the_account() {
        let ip = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
        assert_eq!(keys("ALICE", ip)[0].0, keys("alice", ip)[0].0);
        assert_ne!(
            keys("alice", ip)[1].0,
            keys("alice", IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))[1].0
        );
    }
}
