//! The throttle's ceiling over days of simulated time (issue 22, item 1): blocks that grow and
//! a memory that outlasts them, so the first attempt after the longest block does not start
//! again from zero; refusals count toward the next block; and the owner's known device is never
//! blocked by strangers. The throttle runs on the real database with a clock the test moves.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::*;
use tokenpair_server::clock::Clock;
use tokenpair_server::throttle::{Attempt, Throttle};

/// An attacker who guesses as fast as the throttle lets it, for `days`; `attempt(i)` is its
/// `i`-th attempt. Each refusal is hammered `hammer` more times before waiting it out. Returns
/// the password checks it got, per day.
async fn attack_for_days<'a>(
    throttle: &Throttle,
    clock: &Clock,
    days: usize,
    hammer: usize,
    attempt: impl Fn(usize) -> Attempt<'a>,
) -> Vec<usize> {
    let start = clock.now_ms();
    let mut per_day = vec![0usize; days];
    let mut i = 0;
    loop {
        let day = usize::try_from((clock.now_ms() - start) / 86_400_000).unwrap();
        if day >= days {
            return per_day;
        }
        match throttle.reserve(&attempt(i)).await.expect("the database") {
            Ok(failed_guess) => {
                per_day[day] += 1;
                drop(failed_guess); // a wrong password: the reservation stays counted
                clock.advance(Duration::from_millis(100));
            }
            Err(wait) => {
                for _ in 0..hammer {
                    let again = throttle.reserve(&attempt(i)).await.expect("the database");
                    assert!(again.is_err(), "refused while blocked");
                }
                clock.advance(wait);
            }
        }
        i += 1;
    }
}

/// Attempt `i` comes from its own address: only the account-wide counter binds.
fn from_everywhere(i: usize) -> IpAddr {
    let i = u32::try_from(i).unwrap();
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | i))
}

/// The count stored for a throttle key.
async fn failures_of(server: &TestServer, key: &str) -> i64 {
    server
        .db()
        .int(
            "SELECT failures FROM login_throttle WHERE key = $1",
            Some(key),
        )
        .await
}

async fn throttle_on_a_clock(server: &TestServer) -> (Throttle, Clock) {
    let clock = Clock::manual(tokenpair_server::db::now_ms());
    (
        Throttle::with_clock(server.state.db.clone(), clock.clone()),
        clock,
    )
}

#[tokio::test]
async fn a_distributed_attack_gets_at_most_120_guesses_the_first_day_and_one_a_day_after() {
    let server = start().await;
    let (throttle, clock) = throttle_on_a_clock(&server).await;
    let per_day = attack_for_days(&throttle, &clock, 7, 0, |i| Attempt::Untrusted {
        username: "user1",
        addr: from_everywhere(i),
    })
    .await;
    eprintln!("guesses per day at one account, from everywhere: {per_day:?}");
    assert!(
        (100..=120).contains(&per_day[0]),
        "first day: the 100 free guesses and a few as the blocks double: {per_day:?}"
    );
    for (day, guesses) in per_day.iter().enumerate().skip(1) {
        assert!(
            *guesses <= 2,
            "day {day}: one guess a day or so: {per_day:?}"
        );
    }
    assert!(per_day.iter().sum::<usize>() <= 130, "{per_day:?}");
}

#[tokio::test]
async fn a_stolen_device_cookie_gets_at_most_25_guesses_the_first_day_and_one_a_day_after() {
    let server = start().await;
    let (throttle, clock) = throttle_on_a_clock(&server).await;
    let per_day = attack_for_days(&throttle, &clock, 7, 0, |_| Attempt::TrustedDevice {
        nonce: "stolen",
    })
    .await;
    eprintln!("guesses per day with a stolen device cookie: {per_day:?}");
    assert!(per_day[0] <= 25, "{per_day:?}");
    for (day, guesses) in per_day.iter().enumerate().skip(1) {
        assert!(*guesses <= 2, "day {day}: {per_day:?}");
    }
}

#[tokio::test]
async fn refusals_while_blocked_make_the_next_block_longer() {
    let server = start().await;
    let (throttle, clock) = throttle_on_a_clock(&server).await;
    // Two stolen cookies, each at its first block (5 free failures spent).
    let next_block = |nonce: &'static str, hammer: usize| {
        let throttle = throttle.clone();
        let clock = clock.clone();
        async move {
            let attempt = Attempt::TrustedDevice { nonce };
            for _ in 0..5 {
                drop(throttle.reserve(&attempt).await.unwrap().expect("free"));
            }
            let wait = throttle
                .reserve(&attempt)
                .await
                .unwrap()
                .expect_err("blocked");
            for _ in 0..hammer {
                assert!(throttle.reserve(&attempt).await.unwrap().is_err());
            }
            clock.advance(wait);
            drop(
                throttle
                    .reserve(&attempt)
                    .await
                    .unwrap()
                    .expect("the block ended"),
            );
            throttle
                .reserve(&attempt)
                .await
                .unwrap()
                .expect_err("blocked again")
        }
    };
    let patient = next_block("patient", 0).await;
    let hammering = next_block("hammering", 10).await;
    assert!(
        hammering >= patient * 512,
        "10 refusals count: {hammering:?} vs {patient:?}"
    );
}

#[tokio::test]
async fn after_a_week_of_attack_the_owners_known_device_signs_in_at_once() {
    let server = start().await;
    let (throttle, clock) = throttle_on_a_clock(&server).await;
    attack_for_days(&throttle, &clock, 7, 3, |i| Attempt::Untrusted {
        username: "user1",
        addr: from_everywhere(i),
    })
    .await;
    let owner = Attempt::TrustedDevice {
        nonce: "the-owners-laptop",
    };
    let reservation = throttle
        .reserve(&owner)
        .await
        .unwrap()
        .expect("the owner's device is not blocked by strangers");
    throttle.succeeded(reservation).await.unwrap();
}

#[tokio::test]
async fn a_success_lifts_the_block_its_own_attempt_set_and_resets_the_account_counter() {
    let server = start().await;
    let (throttle, clock) = throttle_on_a_clock(&server).await;
    // 100 failures from everywhere: the account's free limit, and a first 1 s block.
    for i in 0..100 {
        let attempt = Attempt::Untrusted {
            username: "user1",
            addr: from_everywhere(i),
        };
        drop(throttle.reserve(&attempt).await.unwrap().expect("free"));
    }
    clock.advance(std::time::Duration::from_secs(2));
    // The owner, from a new address: this attempt is the 101st and sets a 2 s block…
    let owner = Attempt::Untrusted {
        username: "user1",
        addr: from_everywhere(10_000),
    };
    let reservation = throttle
        .reserve(&owner)
        .await
        .unwrap()
        .expect("not blocked yet");
    // …which the owner's success lifts, with the account's count.
    throttle.succeeded(reservation).await.unwrap();
    clock.advance(std::time::Duration::from_millis(10));
    let next = Attempt::Untrusted {
        username: "user1",
        addr: from_everywhere(10_001),
    };
    let r = throttle.reserve(&next).await.unwrap();
    assert!(r.is_ok(), "no block left behind by the owner's own success");
    drop(r);
    let failures = failures_of(&server, "acct:user1").await;
    assert_eq!(
        failures, 1,
        "the count of consecutive failures started again"
    );
}

#[tokio::test]
async fn a_refusal_on_one_key_sets_no_block_on_the_others() {
    let server = start().await;
    let (throttle, _clock) = throttle_on_a_clock(&server).await;
    // One address spends its 20 free failures on other accounts, then is blocked.
    let addr = from_everywhere(7);
    for i in 0..20 {
        let name = format!("nobody{i}");
        let attempt = Attempt::Untrusted {
            username: &name,
            addr,
        };
        drop(throttle.reserve(&attempt).await.unwrap().expect("free"));
    }
    // Its attempts at user1 are refused by the address key, over and over…
    for _ in 0..10 {
        let attempt = Attempt::Untrusted {
            username: "user1",
            addr,
        };
        assert!(throttle.reserve(&attempt).await.unwrap().is_err());
    }
    // …and cost user1's account counter nothing: another client is not blocked on it.
    let other = Attempt::Untrusted {
        username: "user1",
        addr: from_everywhere(8),
    };
    let r = throttle.reserve(&other).await.unwrap();
    assert!(r.is_ok(), "user1's counter was not touched by the refusals");
    drop(r);
    let failures = failures_of(&server, "acct:user1").await;
    assert_eq!(failures, 1, "only the other client's attempt counted");
}
