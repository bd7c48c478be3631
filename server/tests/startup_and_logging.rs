//! The real `tokenpair-server` binary (checklist 2 and 13): it refuses a weak signing key with
//! a clear message, says so when it generates one, and never writes a token or a password to
//! its log — not even at `RUST_LOG=trace`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use reqwest::{header, StatusCode};
use serde_json::json;
use tokenpair_server::db::Database;
use tokenpair_testkit::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_tokenpair-server");

/// The binary (through the testkit's one launcher) on `database`, serving `dir/dist`.
fn server_command(dir: &Path, database: &Database) -> Command {
    let mut cmd = tokenpair_testkit::server_command(BIN, &database_url(database));
    cmd.arg("--static-dir").arg(dir.join("dist"));
    cmd
}

fn database_url(database: &Database) -> String {
    match database {
        Database::Sqlite(path) => format!("sqlite://{}", path.display()),
        Database::Postgres(url) => url.clone(),
    }
}

#[test]
fn a_secret_shorter_than_32_bytes_is_refused_at_startup_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    // Refused before any database is opened, so an SQLite path shows it: no file appears.
    let database = Database::Sqlite(dir.path().join("tokenpair.db"));
    for (flag, name) in [
        ("--access-token-secret", "ACCESS_TOKEN_SECRET"),
        (
            "--access-token-previous-secret",
            "ACCESS_TOKEN_PREVIOUS_SECRET",
        ),
    ] {
        let output = server_command(dir.path(), &database)
            .args([flag, "short"])
            .output()
            .expect("run the binary");
        assert!(!output.status.success(), "{flag} short must not start");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&format!("{name} is 5 bytes long")),
            "{stderr}"
        );
        assert!(stderr.contains("at least 32 bytes"), "{stderr}");
        assert!(
            !stderr.contains("short"),
            "the message does not echo the secret: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // The same through the environment, and an empty secret.
    let output = server_command(dir.path(), &database)
        .env("ACCESS_TOKEN_SECRET", "")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("ACCESS_TOKEN_SECRET is 0 bytes long"));
    assert!(
        !dir.path().join("tokenpair.db").exists(),
        "refused before touching the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_secret_the_server_signs_with_ed25519_keys_from_the_database_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let database = preseeded_database(dir.path()).await;
    let running = ServerProcess::spawn(server_command(dir.path(), &database));
    let health = client()
        .get(format!("{}/api/health", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let log = tokio::task::spawn_blocking(move || running.stop())
        .await
        .unwrap();
    assert!(
        log.contains("signing access tokens with Ed25519 keys from the database"),
        "{log}"
    );
    assert!(
        log.contains("created the first Ed25519 signing key"),
        "{log}"
    );
}

/// A seeded database for the binary: it skips seeding a database that already has users,
/// which spares it two debug-build Argon2 runs.
async fn preseeded_database(dir: &Path) -> Database {
    let database = fresh_database(dir).await;
    preseed(&database).await;
    database
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_never_contains_a_token_a_password_or_the_secret_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let database = preseeded_database(dir.path()).await;
    let secret = "log-test-secret-that-must-never-be-printed-0123456789";
    let mut cmd = server_command(dir.path(), &database);
    cmd.env("ACCESS_TOKEN_SECRET", secret)
        .env("RUST_LOG", "trace");
    let running = ServerProcess::spawn(cmd);
    let c = client();
    let url = |p: &str| format!("{}{p}", running.base);
    let xrw = |r: reqwest::RequestBuilder| r.header(XRW.0, XRW.1);

    // Everything that handles a secret: sign-in (good and bad), refresh, reuse, me, logout,
    // registration.
    let wrong_password = "hunter2-wrong-password-in-the-log-test";
    let refused = xrw(c.post(url("/api/auth/login")))
        .json(&json!({ "username": "user1", "password": wrong_password }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let login = granted(
        xrw(c.post(url("/api/auth/login")))
            .json(&json!({ "username": "user1", "password": "password1" }))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await
    .tokens;
    let refresh = |cookie: String| {
        xrw(c.post(url("/api/auth/refresh")))
            .header(header::COOKIE, format!("__Secure-refresh_token={cookie}"))
            .send()
    };
    let t1 = granted(
        refresh(login.refresh.clone()).await.unwrap(),
        StatusCode::OK,
    )
    .await
    .tokens;
    let t2 = granted(refresh(t1.refresh.clone()).await.unwrap(), StatusCode::OK)
        .await
        .tokens;
    let me = c
        .get(url("/api/me"))
        .bearer_auth(&t2.access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    // Replaying the first token: reuse detection logs a warning about this session.
    let reused = refresh(login.refresh.clone()).await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    let me = c
        .get(url("/api/me"))
        .bearer_auth(&t2.access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let new_password = "registration-password-for-the-log-test";
    let registered = granted(
        xrw(c.post(url("/api/auth/register")))
            .json(&json!({ "username": "logtest", "password": new_password }))
            .send()
            .await
            .unwrap(),
        StatusCode::CREATED,
    )
    .await
    .tokens;
    let logout = xrw(c.post(url("/api/auth/logout")))
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", registered.refresh),
        )
        .bearer_auth(&registered.access)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);

    let log = tokio::task::spawn_blocking(move || running.stop())
        .await
        .unwrap();
    // The capture worked: the log has the events of what just happened.
    for expected in [
        "signed in",
        "failed sign-in",
        "reuse detected",
        "signed out",
        "account registered",
        "/api/auth/refresh",
    ] {
        assert!(
            log.contains(expected),
            "the log should mention {expected:?}:\n{log}"
        );
    }
    for (what, secret) in [
        ("the signing secret", secret.to_owned()),
        ("the wrong password", wrong_password.to_owned()),
        ("the registration password", new_password.to_owned()),
        ("an access token", login.access.clone()),
        ("an access token", t2.access.clone()),
        ("an access token", registered.access.clone()),
        ("a refresh token", login.refresh.clone()),
        ("a refresh token", t1.refresh.clone()),
        ("a refresh token", t2.refresh.clone()),
        ("a refresh token", registered.refresh.clone()),
    ] {
        assert!(!log.contains(&secret), "the log contains {what}");
        // Not even a recognisable part of it (a JWT's signature, a token's last half).
        let tail = &secret[secret.len() - 20..];
        assert!(!log.contains(tail), "the log contains part of {what}");
    }
}
