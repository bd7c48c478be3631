//! Failed-login throttling with exponential backoff, per account and per client address.
//!
//! Three counters are kept for each attempt: the client address, the (account, address) pair
//! and the account alone. Each allows some free failures, then blocks for 1 s, 2 s, 4 s, …
//! up to a ceiling. The tight limit is on the pair, so one attacker cannot lock a user out
//! from everywhere; the account-wide limit is loose and only slows distributed guessing.
//! Nothing is permanent: blocks expire, and counters reset after a quiet period.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Rule {
    free_failures: u32,
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
/// Counters of keys with no failure for this long are forgotten.
const QUIET_RESET: Duration = Duration::from_secs(15 * 60);
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

fn keys(username: &str, addr: IpAddr) -> [(String, Rule); 3] {
    let user = username.to_lowercase();
    [
        (format!("pair:{user}|{addr}"), PAIR),
        (format!("addr:{addr}"), ADDRESS),
        (format!("acct:{user}"), ACCOUNT),
    ]
}

impl Throttle {
    /// `Err(retry_after)` if this attempt must be refused without checking the password.
    pub fn check(&self, username: &str, addr: IpAddr) -> Result<(), Duration> {
        self.check_at(username, addr, Instant::now())
    }

    pub fn record_failure(&self, username: &str, addr: IpAddr) {
        self.record_failure_at(username, addr, Instant::now())
    }

    /// A successful sign-in clears the pair and the address, not the account-wide counter.
    pub fn record_success(&self, username: &str, addr: IpAddr) {
        if let Ok(mut m) = self.entries.lock() {
            for (key, _) in &keys(username, addr)[..2] {
                m.remove(key);
            }
        }
    }

    fn check_at(&self, username: &str, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let Ok(m) = self.entries.lock() else {
            return Ok(());
        };
        let wait = keys(username, addr)
            .iter()
            .filter_map(|(k, _)| m.get(k)?.blocked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        wait.map_or(Ok(()), Err)
    }

    fn record_failure_at(&self, username: &str, addr: IpAddr, now: Instant) {
        let Ok(mut m) = self.entries.lock() else {
            return;
        };
        if m.len() > MAX_ENTRIES {
            m.retain(|_, e| now.duration_since(e.last_failure) < QUIET_RESET);
        }
        for (key, rule) in keys(username, addr) {
            let e = m.entry(key).or_insert(Entry {
                failures: 0,
                last_failure: now,
                blocked_until: None,
            });
            if now.duration_since(e.last_failure) >= QUIET_RESET {
                e.failures = 0;
            }
            e.failures += 1;
            e.last_failure = now;
            if e.failures >= rule.free_failures {
                let exp = (e.failures - rule.free_failures).min(20);
                let block = Duration::from_secs(1u64 << exp).min(rule.max_block);
                e.blocked_until = Some(now + block);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn five_failures_block_the_account_from_that_address_with_growing_backoff() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.record_failure_at("alice", A, now);
            assert!(t.check_at("alice", A, now).is_ok());
        }
        t.record_failure_at("alice", A, now);
        assert_eq!(t.check_at("alice", A, now), Err(Duration::from_secs(1)));
        t.record_failure_at("alice", A, now);
        assert_eq!(t.check_at("alice", A, now), Err(Duration::from_secs(2)));
        // Blocks end by themselves: no permanent lockout.
        assert!(t.check_at("alice", A, now + Duration::from_secs(3)).is_ok());
        // The same account from another address is not blocked.
        assert!(t.check_at("alice", B, now).is_ok());
        // Case does not dodge the counter.
        assert!(t.check_at("ALICE", A, now).is_err());
    }

    #[test]
    fn backoff_is_capped_and_resets_after_a_quiet_period() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..40 {
            t.record_failure_at("bob", A, now);
        }
        let wait = t.check_at("bob", A, now).unwrap_err();
        assert!(wait <= Duration::from_secs(15 * 60), "{wait:?}");
        let later = now + QUIET_RESET + Duration::from_secs(1);
        t.record_failure_at("bob", A, later);
        assert!(
            t.check_at("bob", A, later).is_ok(),
            "counter restarted after the quiet period"
        );
    }

    #[test]
    fn success_clears_the_pair_counter() {
        let t = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            t.record_failure_at("carol", A, now);
        }
        t.record_success("carol", A);
        t.record_failure_at("carol", A, now);
        assert!(t.check_at("carol", A, now).is_ok());
    }

    #[test]
    fn many_accounts_from_one_address_trip_the_address_limit() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..20 {
            t.record_failure_at(&format!("user{i}"), A, now);
        }
        assert!(t.check_at("someone-new", A, now).is_err());
        assert!(t.check_at("someone-new", B, now).is_ok());
    }
}
