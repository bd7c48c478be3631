//! The real `tokenpair-server` binary (checklist 2 and 13): it refuses a weak signing key with
//! a clear message, says so when it generates one, and never writes a token or a password to
//! its log — not even at `RUST_LOG=trace`.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use reqwest::{header, StatusCode};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_tokenpair-server");

/// The binary with a clean environment (no stray `ACCESS_TOKEN_SECRET` from the shell).
fn server_command(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .args(["--host", "127.0.0.1", "--port", "0"])
        .arg("--database-url")
        .arg(dir.join("tokenpair.db"))
        .arg("--static-dir")
        .arg(dir.join("dist"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// A running binary whose stdout and stderr are collected into one string.
struct Running {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    base: String,
}

impl Running {
    fn spawn(mut cmd: Command) -> Running {
        let mut child = cmd.spawn().expect("start tokenpair-server");
        let output = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        let streams: [Box<dyn Read + Send>; 2] = [
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        ];
        for mut stream in streams {
            let output = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    output
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            }));
        }
        let started = Instant::now();
        let base = loop {
            let text = output.lock().unwrap().clone();
            if let Some(rest) = text.split("running at ").nth(1) {
                break rest.split_whitespace().next().expect("address").to_owned();
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server exited with {status}: {text}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Running {
            child,
            output,
            readers,
            base,
        }
    }

    /// Stops the process (SIGTERM, a graceful shutdown) and returns everything it printed.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let started = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if started.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        for r in self.readers.drain(..) {
            let _ = r.join();
        }
        let text = self.output.lock().unwrap().clone();
        text
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn a_secret_shorter_than_32_bytes_is_refused_at_startup_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, name) in [
        ("--access-token-secret", "ACCESS_TOKEN_SECRET"),
        (
            "--access-token-previous-secret",
            "ACCESS_TOKEN_PREVIOUS_SECRET",
        ),
    ] {
        let output = server_command(dir.path())
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
    let output = server_command(dir.path())
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
async fn without_a_secret_the_server_generates_one_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    preseed_for_binary(dir.path());
    let running = Running::spawn(server_command(dir.path()));
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
        log.contains("ACCESS_TOKEN_SECRET is not set: generated a random signing key"),
        "{log}"
    );
}

/// The binary skips seeding a database that already has users: spare it two debug-build
/// Argon2 runs.
fn preseed_for_binary(dir: &Path) {
    preseed(&dir.join("tokenpair.db"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_never_contains_a_token_a_password_or_the_secret_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    preseed_for_binary(dir.path());
    let secret = "log-test-secret-that-must-never-be-printed-0123456789";
    let mut cmd = server_command(dir.path());
    cmd.env("ACCESS_TOKEN_SECRET", secret)
        .env("RUST_LOG", "trace");
    let running = Running::spawn(cmd);
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
            .header(header::COOKIE, format!("refresh_token={cookie}"))
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
            format!("refresh_token={}", registered.refresh),
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
