//! `make cluster` as a user would meet it (issue 11): PostgreSQL, two server instances on one
//! database and nginx round-robin in front (scripts/cluster.sh), and a browser that signs in,
//! reloads, refreshes and signs out through it — with its requests landing on both instances.
//!
//! Needs a PostgreSQL cluster: `scripts/test.sh` runs the e2e layer under `scripts/pg.sh`
//! (which sets `TOKENPAIR_TEST_PG_URL`). Without one this test fails; it never skips.

use std::process::Stdio;
use std::time::Duration;

use tokenpair_e2e::{
    click, dist_dir, eventually, exists, reload, sign_in, text_now, text_of, Driver,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const SIGNED_IN: &str = "[data-testid=me-username]";
const LOGIN_FORM: &str = "#username";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// How many lines of an instance's log contain `what`.
fn count(log: &std::path::Path, what: &str) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(what))
        .count()
}

#[tokio::test]
async fn through_nginx_and_two_instances_sign_in_reload_refresh_and_sign_out_use_both() {
    let pg = std::env::var("TOKENPAIR_TEST_PG_URL")
        .expect("TOKENPAIR_TEST_PG_URL: run through scripts/pg.sh (scripts/test.sh e2e does)");
    let root = dist_dir().join("..");
    let run = tempfile::tempdir().expect("run dir");
    let port = free_port();
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    let mut cluster = Command::new("bash")
        .arg(root.join("scripts/cluster.sh"))
        .current_dir(&root)
        .env("TOKENPAIR_TEST_PG_URL", pg)
        .env("CLUSTER_PORT", port.to_string())
        .env("CLUSTER_RUN_DIR", run.path())
        .env("STATIC_DIR", dist_dir())
        .env("SERVER_BIN", target.join("release/tokenpair-server"))
        // Short access tokens, so the journey sees refreshes; info logs name each event.
        .env("ACCESS_TOKEN_EXPIRY", "3s")
        .env("REFRESH_RATE_LIMIT", "120")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start scripts/cluster.sh");
    let mut lines = BufReader::new(cluster.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("tokenpair cluster is running at") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(ready, Ok(true), "the cluster said it is running");
    let front = format!("http://127.0.0.1:{port}");

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&format!("{front}/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");

    // A reload restores the session through the cookie, whichever instance answers.
    reload(&browser).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    // Past the 3 s access tokens: refreshes and API calls keep working across instances.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        click(&browser, "[data-testid=call-api]").await;
        eventually(Duration::from_secs(10), "the API answers", || async {
            text_now(&browser, SIGNED_IN).await.as_deref() == Some("user1")
        })
        .await;
    }
    let (a, b) = (run.path().join("a.log"), run.path().join("b.log"));
    let refreshed = (count(&a, "refreshed"), count(&b, "refreshed"));
    assert!(
        refreshed.0 > 0 && refreshed.1 > 0,
        "refreshes landed on both instances: {refreshed:?}"
    );

    click(&browser, "[data-testid=sign-out]").await;
    eventually(Duration::from_secs(10), "signed out", || async {
        exists(&browser, LOGIN_FORM).await
    })
    .await;
    reload(&browser).await;
    eventually(
        Duration::from_secs(10),
        "still signed out after a reload",
        || async { exists(&browser, LOGIN_FORM).await && !exists(&browser, SIGNED_IN).await },
    )
    .await;
    let signed_out = count(&a, "signed out") + count(&b, "signed out");
    assert!(signed_out >= 1, "an instance ended the session");

    // Ctrl-C equivalent: the script stops nginx and both instances.
    if let Some(pid) = cluster.id() {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(20), cluster.wait()).await;
}
