//! What is counted and how long it blocks: the keys of an attempt and the [`Rule`] of each.

use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub free_failures: i64,
    /// The longest block; blocks double up to it.
    pub max_block: Duration,
    /// A counter with no attempt (failure or refusal) for this long starts again from zero.
    /// Always several longest blocks: escalation survives the wait for a block to end.
    pub forget_after: Duration,
}

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

const fn rule(free_failures: i64, max_block_s: u64, forget_after_s: u64) -> Rule {
    Rule {
        free_failures,
        max_block: Duration::from_secs(max_block_s),
        forget_after: Duration::from_secs(forget_after_s),
    }
}

/// One account from one address: the owner's typos.
pub const PAIR: Rule = rule(5, HOUR, DAY);
/// One address, any account (loose: an office's users share an address).
pub const ADDRESS: Rule = rule(20, 15 * MINUTE, HOUR);
/// One account, every client without its device cookie. NIST SP 800-63B §5.2.2 asks for no
/// more than 100 consecutive failures: 100 free, then blocks that double to a day and are
/// remembered for a week — 108 guesses the first day and one a day after that, as measured by
/// `server/tests/throttle_over_days.rs` (the refusal that says "wait" counts too).
pub const ACCOUNT_UNTRUSTED: Rule = rule(100, DAY, 7 * DAY);
/// One device cookie (a stolen one, say): 5 free, then the same escalation as the account.
pub const DEVICE: Rule = rule(5, DAY, 7 * DAY);
/// Registrations from one address.
pub const REGISTER: Rule = rule(20, 15 * MINUTE, HOUR);
/// The longest any counter is remembered (the prune job keeps counters this long).
pub const LONGEST_MEMORY: Duration = Duration::from_secs(7 * DAY);

/// Who is attempting a sign-in.
#[derive(Debug, Clone)]
pub enum Attempt<'a> {
    /// No valid device cookie for the account.
    Untrusted { username: &'a str, addr: IpAddr },
    /// A valid device cookie for the account (its nonce).
    TrustedDevice { nonce: &'a str },
}

/// What a successful sign-in does to a key's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnSuccess {
    /// The count starts over (the key is deleted).
    Clear,
    /// Only this attempt is taken back: the key's other failures stay.
    TakeBack,
}

/// One counter an attempt is counted against: its name in `login_throttle`, its rule, and
/// what a success does to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub rule: Rule,
    pub on_success: OnSuccess,
}

impl Key {
    fn new(name: String, rule: Rule, on_success: OnSuccess) -> Key {
        Key {
            name,
            rule,
            on_success,
        }
    }
}

/// The account part of a key: the same normalized name the account is found by
/// ([`crate::users::credentials::name_key`]).
fn account(username: &str) -> String {
    // NUL is not storable in PostgreSQL text; no real account name has one anyway.
    crate::users::credentials::name_key(username).replace('\0', "\\0")
}

pub fn sign_in_keys(attempt: &Attempt<'_>) -> Vec<Key> {
    let mut keys = match attempt {
        Attempt::Untrusted { username, addr } => {
            let user = account(username);
            vec![
                Key::new(format!("pair:{user}|{addr}"), PAIR, OnSuccess::Clear),
                Key::new(format!("addr:{addr}"), ADDRESS, OnSuccess::TakeBack),
                // A success resets it: NIST counts *consecutive* failures.
                Key::new(format!("acct:{user}"), ACCOUNT_UNTRUSTED, OnSuccess::Clear),
            ]
        }
        Attempt::TrustedDevice { nonce } => {
            vec![Key::new(
                format!("device:{nonce}"),
                DEVICE,
                OnSuccess::Clear,
            )]
        }
    };
    keys.sort_by(|a, b| a.name.cmp(&b.name));
    keys
}

pub fn register_key(addr: IpAddr) -> Key {
    Key::new(format!("register:{addr}"), REGISTER, OnSuccess::TakeBack)
}

/// How long the `failures`-th counted attempt blocks under `rule` (zero while they are free).
pub fn block_after(failures: i64, rule: Rule) -> Duration {
    if failures < rule.free_failures {
        return Duration::ZERO;
    }
    let exp = (failures - rule.free_failures).clamp(0, 30) as u32;
    Duration::from_secs(1u64 << exp).min(rule.max_block)
}

/// Whole seconds to wait, at least 1 (for `Retry-After`).
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
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
    fn every_rule_remembers_a_counter_for_several_of_its_longest_blocks() {
        for rule in [PAIR, ADDRESS, ACCOUNT_UNTRUSTED, DEVICE, REGISTER] {
            assert!(rule.forget_after >= rule.max_block * 4, "{rule:?}");
            assert!(rule.forget_after <= LONGEST_MEMORY, "{rule:?}");
        }
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
        assert!(device[0].name.starts_with("device:"));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
