//! Throttling an attacker can neither turn against the owner nor slip past (issue 15, items
//! 1–3). Distinct clients are distinct source addresses on loopback (127.0.1.x).

mod common;

use common::*;
use futures::future::join_all;
use reqwest::StatusCode;

/// The `device=…` cookie of a successful sign-in, as a `Cookie` header value.
async fn sign_in_for_device_cookie(server: &TestServer, from: u8) -> String {
    let response = server.login_from(&client_at(from), USER1, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let device = the_device_cookie(response.headers()).expect("a device cookie at sign-in");
    assert_eq!(device.attr("HttpOnly"), Some(None));
    assert_eq!(device.attr("Secure"), Some(None));
    assert_eq!(device.attr("SameSite"), Some(Some("Strict")));
    assert_eq!(device.attr("Path"), Some(Some("/api/auth/login")));
    assert!(device.max_age() > 30 * 24 * 3600, "{}", device.raw);
    format!("device={}", device.value)
}

fn statuses(responses: Vec<reqwest::Response>) -> Vec<StatusCode> {
    responses.iter().map(|r| r.status()).collect()
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn a_distributed_attack_cannot_lock_the_owner_out_of_a_known_device() {
    let server = start().await;
    let device = sign_in_for_device_cookie(&server, 200).await;

    // 5 wrong passwords from each of 10 addresses, then one from each of 60 new addresses:
    // more than the account-wide limit for untrusted clients (100).
    for addr in 1..=10 {
        let attacker = client_at(addr);
        for _ in 0..5 {
            let r = server.login_from(&attacker, ("user1", "wrong"), None).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        // That address is now blocked for user1 …
        let r = server.login_from(&attacker, USER1, None).await;
        expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    }
    // 50 failures so far: the next 50 are answered (401), every one after is refused (429).
    let mut answers = Vec::new();
    for addr in 11..=70 {
        let r = server
            .login_from(&client_at(addr), ("user1", "wrong"), None)
            .await;
        answers.push(r.status());
    }
    assert_eq!(
        answers[..50],
        [StatusCode::UNAUTHORIZED; 50],
        "the first 100 failures are answered: {answers:?}"
    );
    assert_eq!(
        answers[50..],
        [StatusCode::TOO_MANY_REQUESTS; 10],
        "after 100 the account is blocked for untrusted clients: {answers:?}"
    );

    // … but the owner's known device signs in, from a blocked address or any other.
    for from in [1, 200, 250] {
        let r = server
            .login_from(&client_at(from), USER1, Some(&device))
            .await;
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "known device from 127.0.1.{from}"
        );
    }
    // A cookie with a non-ASCII value beside the device cookie (a sibling site's, say) does
    // not hide it.
    let beside = format!("theme=été; {device}");
    let r = server
        .login_from(&client_at(251), USER1, Some(&beside))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "known device beside a non-ASCII cookie"
    );
}

#[tokio::test]
async fn a_forged_or_foreign_device_cookie_counts_as_an_untrusted_client() {
    let server = start().await;
    let response = server.login_from(&client_at(200), USER2, None).await;
    let user2_device = the_device_cookie(response.headers()).expect("device cookie");
    let pair_failures = |from: u8| {
        let server = &server;
        async move {
            server
                .db()
                .count(&format!(
                    "SELECT COUNT(*) FROM login_throttle WHERE key = 'pair:user1|127.0.1.{from}'"
                ))
                .await
        }
    };
    let forged = "device=1.1.AAAA.BBBB".to_owned();
    let foreign = format!("device={}", user2_device.value);
    for (from, cookie) in [(21, forged), (22, foreign)] {
        let r = server
            .login_from(&client_at(from), ("user1", "wrong"), Some(&cookie))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(pair_failures(from).await, 1, "{cookie}");
    }
}

#[tokio::test]
async fn the_owner_signs_in_from_a_new_address_after_failures_from_ten_others() {
    let server = start().await;
    for addr in 1..=10 {
        let attacker = client_at(addr);
        for _ in 0..5 {
            let r = server.login_from(&attacker, ("user1", "wrong"), None).await;
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
    }
    for addr in 11..=20 {
        let r = server
            .login_from(&client_at(addr), ("user1", "wrong"), None)
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = server.login_from(&client_at(99), USER1, None).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "60 failures stay under the account-wide limit"
    );
}

#[tokio::test]
async fn a_known_device_is_limited_by_its_own_failures() {
    let server = start().await;
    let device = sign_in_for_device_cookie(&server, 200).await;
    let thief = client_at(7);
    for _ in 0..5 {
        let r = server
            .login_from(&thief, ("user1", "wrong"), Some(&device))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = server.login_from(&thief, USER1, Some(&device)).await;
    expect_error(r, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    // The device's lock is its own: the owner elsewhere, without it, is not affected.
    let r = server.login_from(&client_at(8), USER1, None).await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_gets_at_most_five_password_checks() {
    let server = start().await;
    let attacker = client_at(3);
    let runs_before = server.state.passwords.runs();
    let responses =
        join_all((0..60).map(|_| server.login_from(&attacker, ("user1", "wrong"), None))).await;
    let got = statuses(responses);
    let checks = server.state.passwords.runs() - runs_before;
    assert!(
        checks <= 5,
        "{checks} password checks for one address and account"
    );
    assert_eq!(
        count(&got, StatusCode::UNAUTHORIZED) as u64,
        checks,
        "{got:?}"
    );
    assert_eq!(
        count(&got, StatusCode::TOO_MANY_REQUESTS) + count(&got, StatusCode::UNAUTHORIZED),
        60,
        "every other guess is refused without a check: {got:?}"
    );
}

#[tokio::test]
async fn a_success_on_another_account_does_not_clear_the_address_counter() {
    let server = start().await;
    let sprayer = client_at(4);
    let mut unauthorized = 0;
    let mut refused = 0;
    for i in 0..60 {
        if i % 15 == 14 {
            // The attacker's own account, signed in now and then.
            let r = server.login_from(&sprayer, USER2, None).await;
            assert!(
                [StatusCode::OK, StatusCode::TOO_MANY_REQUESTS].contains(&r.status()),
                "{}",
                r.status()
            );
            continue;
        }
        let r = server
            .login_from(&sprayer, (&format!("victim{i}"), "Password123"), None)
            .await;
        match r.status() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(
        unauthorized, 20,
        "the address limit holds: 20 free failures"
    );
    assert!(refused >= 30, "{refused}");
}

#[tokio::test]
async fn a_refused_attempt_does_not_extend_the_block() {
    let server = start().await;
    let attacker = client_at(5);
    for _ in 0..5 {
        server.login_from(&attacker, ("user1", "wrong"), None).await;
    }
    let block_end = || async {
        server
            .db()
            .int(
                "SELECT blocked_until FROM login_throttle WHERE key = $1",
                Some("pair:user1|127.0.1.5"),
            )
            .await
    };
    let before = block_end().await;
    assert!(before > 0, "blocked after 5 failures");
    for _ in 0..10 {
        let r = server.login_from(&attacker, ("user1", "wrong"), None).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    // The refusals count toward the *next* block (tests/throttle_over_days.rs), but this one
    // ends when it was going to.
    assert_eq!(
        block_end().await,
        before,
        "the running block is not extended"
    );
}

/// One account is one throttle counter, however its name is spelled: the lookup and the
/// counters use the same normalized name (NFKC and case folding, in the server, never the
/// database's `lower()` — PostgreSQL's maps `İ` to `i`, Rust's lowercase to `i̇`).
#[tokio::test]
async fn a_name_spelled_with_other_letters_never_reaches_a_blocked_account() {
    let server = start().await;
    assert_eq!(
        server.try_register("idris", "Password123").await.status(),
        StatusCode::CREATED
    );
    let attacker = client_at(31);
    for i in 0..5 {
        let r = server
            .login_from(&attacker, ("idris", "wrong-password"), None)
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let blocked = server
        .login_from(&attacker, ("IDRIS", "Password123"), None)
        .await;
    assert_eq!(
        blocked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "another case of the same name is the same counter"
    );
    for variant in ["İdris", "idrİs", "İDRİS", "ｉｄｒｉｓ"] {
        let r = server
            .login_from(&attacker, (variant, "Password123"), None)
            .await;
        assert_ne!(
            r.status(),
            StatusCode::OK,
            "{variant:?} must not sign in to the blocked account"
        );
    }
}
