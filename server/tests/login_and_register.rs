//! Sign-in and registration (checklist 17-19): Argon2id hashes, one generic answer for unknown
//! users and wrong passwords, throttling with `Retry-After`, a new session per sign-in, and the
//! registration rules.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::header;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ARGON2ID_OWASP: &str = "$argon2id$v=19$m=19456,t=2,p=1$";

async fn stored_hash(server: &TestServer, username: &str) -> String {
    server
        .db()
        .text(
            "SELECT password_hash FROM users WHERE username = $1",
            Some(username),
        )
        .await
        .expect("a password hash")
}

#[tokio::test]
async fn sign_in_answers_the_access_token_its_lifetime_and_the_user() {
    let server = start().await;
    let got = granted(server.try_login("user2", "password2").await, StatusCode::OK).await;
    assert_eq!(got.body["token_type"], "Bearer");
    assert_eq!(got.body["expires_in"], 300);
    assert_eq!(got.body["user"], json!({ "id": 2, "username": "user2" }));
    server
        .assert_access_works(&got.tokens.access, USER2_ID)
        .await;
}

#[tokio::test]
async fn the_demo_accounts_are_seeded_with_argon2id_hashes_on_first_start() {
    let server = start_fresh_with(|_| {}).await;
    for user in ["user1", "user2"] {
        let hash = stored_hash(&server, user).await;
        assert!(hash.starts_with(ARGON2ID_OWASP), "{user}: {hash}");
        assert!(!hash.contains("password"), "{hash}");
    }
    server.login(USER1).await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_401_after_the_same_work() {
    let server = start().await;
    let started = Instant::now();
    let wrong = server.try_login("user1", "not-the-password").await;
    let wrong_took = started.elapsed();
    let wrong_challenge = wrong.headers().get(header::WWW_AUTHENTICATE).cloned();
    let wrong = expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    let started = Instant::now();
    let unknown = server.try_login("nobody-here", "not-the-password").await;
    let unknown_took = started.elapsed();
    let unknown_challenge = unknown.headers().get(header::WWW_AUTHENTICATE).cloned();
    let unknown = expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    assert_eq!(wrong.body, unknown.body, "indistinguishable bodies");
    assert_eq!(
        wrong_challenge, unknown_challenge,
        "indistinguishable headers"
    );
    assert!(set_cookies(&wrong.headers).is_empty() && set_cookies(&unknown.headers).is_empty());
    // An unknown user still costs a full Argon2 verification (against a dummy hash). The ratio
    // is loose on purpose: it only has to tell one Argon2 run from none.
    assert!(
        unknown_took * 3 > wrong_took,
        "unknown user took {unknown_took:?}, wrong password {wrong_took:?}"
    );
}

#[tokio::test]
async fn usernames_are_case_insensitive_at_sign_in() {
    let server = start().await;
    let got = granted(server.try_login("USER1", "password1").await, StatusCode::OK).await;
    assert_eq!(got.body["user"]["username"], "user1");
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_429_and_retry_after_even_for_the_right_password() {
    let server = start().await;
    for _ in 0..5 {
        expect_error(
            server.try_login("user1", "guess").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let throttled = expect_error(
        server.try_login("user1", "guess").await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    let retry_after: u64 = throttled.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=2).contains(&retry_after),
        "the first block is short: {retry_after}"
    );
    assert!(
        throttled.message.contains("Try again"),
        "{}",
        throttled.message
    );

    // The right password does not get through while blocked (no oracle for the attacker) …
    let runs = server.state.passwords.runs();
    let right = server.try_login("user1", "password1").await;
    assert_eq!(
        server.state.passwords.runs(),
        runs,
        "refused before any password check (no Argon2 run)"
    );
    expect_error(right, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;

    // … another account from the same address is not affected …
    server.login(USER2).await;

    // … and the block is not permanent: after Retry-After the right password works.
    tokio::time::sleep(Duration::from_millis(retry_after * 1000 + 100)).await;
    server.login(USER1).await;
}

#[tokio::test]
async fn unknown_users_are_throttled_like_real_ones() {
    let server = start().await;
    for _ in 0..5 {
        expect_error(
            server.try_login("ghost", "guess").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    let throttled = expect_error(
        server.try_login("ghost", "guess").await,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
    )
    .await;
    assert!(throttled.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn every_sign_in_starts_a_new_session() {
    let server = start().await;
    let first = server.login(USER1).await;
    let second = server.login(USER1).await;
    assert_ne!(first.sid, second.sid);
    let list: Vec<Value> = server
        .get_bearer("/api/sessions", &second.access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], json!(second.sid));
    // Both stay usable.
    server.refresh_ok(&first.refresh).await;
    server.refresh_ok(&second.refresh).await;
}

#[tokio::test]
async fn signing_in_again_with_an_old_cookie_ends_that_old_session() {
    let server = start().await;
    let old = server.session(USER1_ID).await;
    let response = server
        .auth_post("/api/auth/login")
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", old.refresh),
        )
        .json(&json!({ "username": "user1", "password": "password1" }))
        .send()
        .await
        .unwrap();
    let new = granted(response, StatusCode::OK).await.tokens;
    assert_ne!(new.sid, old.sid);
    assert_eq!(
        server.revoked_reason(&old.sid).await.as_deref(),
        Some("replaced")
    );
    expect_invalid_token(server.me(&old.access).await).await;
    server.assert_access_works(&new.access, USER1_ID).await;
}

#[tokio::test]
async fn register_answers_201_signed_in_and_stores_an_argon2id_hash() {
    let server = start().await;
    let got = granted(
        server
            .try_register("new_user-1.x", "correct horse battery")
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(got.body["user"]["username"], "new_user-1.x");
    let id = got.body["user"]["id"].as_i64().unwrap();
    server.assert_access_works(&got.tokens.access, id).await;
    server.refresh_ok(&got.tokens.refresh).await;
    let hash = stored_hash(&server, "new_user-1.x").await;
    assert!(hash.starts_with(ARGON2ID_OWASP), "{hash}");
    assert!(!hash.contains("correct horse"));
    // The new account can sign in with its password.
    server
        .login(("new_user-1.x", "correct horse battery"))
        .await;
}

#[tokio::test]
async fn register_refuses_a_taken_username_case_insensitively_with_409() {
    let server = start().await;
    for name in ["user1", "USER1", "User2"] {
        let err = expect_error(
            server.try_register(name, "long enough pass").await,
            StatusCode::CONFLICT,
            "username_taken",
        )
        .await;
        assert!(err.message.contains("taken"), "{}", err.message);
        assert!(set_cookies(&err.headers).is_empty());
    }
    // The original account is untouched.
    server.login(USER1).await;
}

#[tokio::test]
async fn register_refuses_bad_usernames_and_short_passwords_with_422_naming_the_reason() {
    let server = start().await;
    let long = "x".repeat(33);
    let cases: [(&str, &str, &str); 7] = [
        ("ab", "long enough pass", "3 to 32 characters"),
        (&long, "long enough pass", "3 to 32 characters"),
        ("", "long enough pass", "3 to 32 characters"),
        ("has space", "long enough pass", "may contain only"),
        ("semi;colon", "long enough pass", "may contain only"),
        ("ünïcödé", "long enough pass", "may contain only"),
        ("fine_name", "short", "at least 8 characters"),
    ];
    for (username, password, reason) in cases {
        let err = expect_error(
            server.try_register(username, password).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            err.message.contains(reason),
            "{username:?}/{password:?}: {}",
            err.message
        );
    }
    let too_long_password = "p".repeat(257);
    let err = expect_error(
        server.try_register("fine_name", &too_long_password).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert!(err.message.contains("at most 256"), "{}", err.message);
    let users = server.db().count("SELECT COUNT(*) FROM users").await;
    assert_eq!(users, 2, "nothing was created");
}
