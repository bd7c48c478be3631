//! Safe defaults for a real deployment (issue 21, items 2 and 3), through the real binary:
//! demo accounts only when asked for (`DEMO_USERS`) and a warning when they exist on a server
//! others can reach; `PUBLIC_URL` as the only own origin when it is set; bad settings refused
//! at start with a message that says what is wrong.

mod common;

use std::process::{Command, Stdio};

use common::*;
use reqwest::StatusCode;
use serde_json::json;
use tokenpair_testkit::ServerProcess;

const BIN: &str = env!("CARGO_BIN_EXE_tokenpair-server");
const DEMO_WARNING: &str = "demo accounts with their published passwords exist";

/// The binary on an SQLite file in `dir`, clean environment, nothing else set.
fn bare(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("RUST_LOG", "info")
        .env(
            "SIGNING_KEY_ENCRYPTION_KEY",
            "a-key-encryption-key-of-at-least-32-bytes",
        )
        .args(["--host", "127.0.0.1", "--port", "0"])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.join("t.db").display()))
        .stdin(Stdio::null());
    cmd
}

async fn sign_in_status(base: &str, origin: Option<&str>) -> StatusCode {
    let mut request = client()
        .post(format!("{base}/api/auth/login"))
        .header(XRW.0, XRW.1)
        .json(&json!({ "username": USER1.0, "password": USER1.1 }));
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.expect("login").status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_database_gets_the_demo_accounts_only_with_demo_users() {
    let dir = tempfile::tempdir().unwrap();
    let running = ServerProcess::spawn(bare(dir.path()));
    assert_eq!(
        sign_in_status(&running.base, None).await,
        StatusCode::UNAUTHORIZED,
        "no user1 by default"
    );
    let log = running.stop();
    assert!(!log.contains("demo accounts"), "{log}");

    // Asked for through the environment, as `make run` does.
    let mut cmd = bare(dir.path());
    cmd.env("DEMO_USERS", "1");
    let running = ServerProcess::spawn(cmd);
    assert_eq!(sign_in_status(&running.base, None).await, StatusCode::OK);
    let log = running.stop();
    assert!(log.contains("created the demo accounts"), "{log}");
    assert!(
        !log.contains(DEMO_WARNING),
        "loopback only: no warning\n{log}"
    );
}

#[test]
fn demo_accounts_on_a_server_others_can_reach_are_warned_about_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bare(dir.path());
    cmd.args(["--demo-users", "--public-url", "https://auth.example.com"]);
    let log = ServerProcess::spawn(cmd).stop();
    assert!(log.contains(DEMO_WARNING), "{log}");
    assert!(log.contains("user1") && log.contains("user2"), "{log}");

    // Already there, not created now, no DEMO_USERS: still usable, still warned about.
    let mut cmd = bare(dir.path());
    cmd.env("PUBLIC_URL", "https://auth.example.com");
    let log = ServerProcess::spawn(cmd).stop();
    assert!(log.contains(DEMO_WARNING), "{log}");

    // The same accounts on a loopback PUBLIC_URL: nobody else can reach them.
    let mut cmd = bare(dir.path());
    cmd.env("PUBLIC_URL", "http://localhost:8080");
    let log = ServerProcess::spawn(cmd).stop();
    assert!(!log.contains(DEMO_WARNING), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_public_url_the_cookie_endpoints_accept_only_its_origin() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bare(dir.path());
    cmd.args(["--demo-users", "--public-url", "https://auth.example.com"]);
    let running = ServerProcess::spawn(cmd);
    assert_eq!(
        sign_in_status(&running.base, Some("https://auth.example.com")).await,
        StatusCode::OK
    );
    // The origin the Host header names (what a DNS-rebinding page would send) no longer
    // counts once PUBLIC_URL is set.
    assert_eq!(
        sign_in_status(&running.base, Some(&running.base)).await,
        StatusCode::FORBIDDEN
    );
    running.stop();

    // Unset (local use): the Host's origin is the server's own.
    let mut cmd = bare(dir.path());
    cmd.arg("--demo-users");
    let running = ServerProcess::spawn(cmd);
    assert_eq!(
        sign_in_status(&running.base, Some(&running.base)).await,
        StatusCode::OK
    );
    running.stop();
}

#[test]
fn a_bad_public_url_or_trusted_proxy_is_refused_at_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            ("PUBLIC_URL", "auth.example.com/app"),
            "PUBLIC_URL \"auth.example.com/app\" must be an http or https origin",
        ),
        (
            ("TRUSTED_PROXIES", "10.0.0.1,nginx"),
            "TRUSTED_PROXIES: \"nginx\" is neither an IP address nor a CIDR block",
        ),
    ];
    for ((name, value), message) in cases {
        let output = bare(dir.path())
            .env(name, value)
            .output()
            .expect("run the binary");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(message), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(
        !dir.path().join("t.db").exists(),
        "refused before touching the database"
    );
}
