//! `make cluster` as a user would meet it (issue 11): PostgreSQL, two server instances on one
//! database and nginx round-robin in front (scripts/cluster.sh), and a browser that signs in,
//! reloads, refreshes and signs out through it — with its API calls and refreshes answered by
//! both instances (nginx names the instance in `X-Tokenpair-Instance`; the e2e proxy between
//! the browser and nginx records it).
//!
//! Needs a PostgreSQL cluster: `scripts/test.sh` runs the e2e layer under `scripts/pg.sh`
//! (which sets `TOKENPAIR_TEST_PG_URL`). Without one this test fails; it never skips.

use std::process::Stdio;
use std::time::Duration;

use tokenpair_e2e::{
    answer_count, click, dist_dir, eventually, exists, reload, sign_in, text_of,
    wait_for_fresh_answer, Driver, Proxy,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const SIGNED_IN: &str = "[data-testid=me-username]";
const LOGIN_FORM: &str = "#username";
const ME: &str = "/api/me";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The address an instance's log says it listens on (`127.0.0.1:PORT`): what nginx names
/// it in `X-Tokenpair-Instance`.
fn address_in(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    tokenpair_testkit::ready_base(&text)
        .and_then(|base| base.strip_prefix("http://").map(str::to_owned))
        .unwrap_or_else(|| panic!("no readiness line in {}:\n{text}", log.display()))
}

/// Ctrl-C for `scripts/cluster.sh` (its trap stops nginx and both instances), on drop: a
/// failing assertion must not leave the instances running (killing bash alone would).
struct StopCluster(u32);

impl Drop for StopCluster {
    fn drop(&mut self) {
        let pid = self.0 as libc::pid_t;
        // SAFETY: plain syscalls on the child's pid; `status` is a valid out-pointer.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
            for _ in 0..400 {
                let mut status = 0;
                if libc::waitpid(pid, &mut status, libc::WNOHANG) != 0 {
                    return; // exited (or already reaped)
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // Still running after 20 s: the whole group, nginx and the instances too.
            libc::kill(-pid, libc::SIGKILL);
        }
    }
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
        // Its own process group (nginx and the instances stay in it), which the run's
        // leftover check (scripts/test.sh) knows, like chromedriver's.
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .expect("start scripts/cluster.sh");
    let pid = cluster.id().expect("cluster.sh's pid");
    if let Some(file) = std::env::var_os("TOKENPAIR_E2E_PGIDS") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(file) {
            let _ = writeln!(f, "{pid}");
        }
    }
    let _stop_on_any_exit = StopCluster(pid);
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
    // The browser goes through the e2e proxy in front of nginx: its log holds every answer
    // with nginx's `X-Tokenpair-Instance` (the instance that answered).
    let proxy = Proxy::start(port).await;
    let (a, b) = (run.path().join("a.log"), run.path().join("b.log"));
    let instances = [address_in(&a), address_in(&b)];
    let answered_by = |method: &str, path: &str, status: u16| -> Vec<String> {
        proxy
            .exchanges(method, path)
            .iter()
            .filter(|e| e.status == Some(status))
            .filter_map(|e| e.header("x-tokenpair-instance").map(str::to_owned))
            .collect()
    };
    let on_both = |seen: &[String]| instances.iter().all(|i| seen.contains(i));

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&proxy.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");

    // A reload restores the session through the cookie, whichever instance answers.
    reload(&browser).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    // Past the 3 s access tokens, API calls keep being answered — each click a fresh 200 —
    // until the API calls and the refreshes have both landed on both instances.
    for round in 0.. {
        let refreshes = answered_by("POST", "/api/auth/refresh", 200);
        let calls = answered_by("GET", ME, 200);
        if round >= 4 && on_both(&refreshes) && on_both(&calls) {
            break;
        }
        assert!(
            round < 16,
            "after {round} rounds, refreshes answered by {refreshes:?}, API calls by {calls:?}; \
             instances {instances:?}"
        );
        // Long pauses first (the token expires between calls), then quick ones too.
        let pause = if round < 4 { 1500 } else { 300 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
        let seen = answer_count(&browser, ME).await;
        click(&browser, "[data-testid=call-api]").await;
        wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(10)).await;
    }
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");

    click(&browser, "[data-testid=sign-out]").await;
    eventually(Duration::from_secs(10), "signed out", || async {
        exists(&browser, LOGIN_FORM).await
    })
    .await;
    let logout = answered_by("POST", "/api/auth/logout", 204);
    assert_eq!(logout.len(), 1, "one sign-out request, answered 204");
    let refreshes_before_reload = proxy.exchanges("POST", "/api/auth/refresh").len();
    reload(&browser).await;
    eventually(
        Duration::from_secs(10),
        "still signed out after a reload",
        || async { exists(&browser, LOGIN_FORM).await && !exists(&browser, SIGNED_IN).await },
    )
    .await;
    // The instance that answered the sign-out ended the session (its log says so, the other's
    // does not), and the restore after the reload found no session, whichever instance it
    // reached.
    let ended_by = if logout[0] == instances[0] { &a } else { &b };
    let other = if logout[0] == instances[0] { &b } else { &a };
    assert_eq!(count(ended_by, "signed out"), 1, "{}", logout[0]);
    assert_eq!(count(other, "signed out"), 0);
    let after_reload: Vec<Option<u16>> = proxy.exchanges("POST", "/api/auth/refresh")
        [refreshes_before_reload..]
        .iter()
        .map(|e| e.status)
        .collect();
    // (The boot-time restore asks with `?optional=1`: "no session" is a 204, not a grant.)
    assert!(
        !after_reload.is_empty() && after_reload.iter().all(|s| *s == Some(204)),
        "the restore after sign-out finds no session: {after_reload:?}"
    );
    drop(proxy);
    // `_stop_on_any_exit` stops the cluster here — and also when an assertion above failed.
}
