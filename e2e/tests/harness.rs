//! The harness itself: no test leaves a Chromium behind, whether it passes, panics, or
//! forgets to end its browser. (`scripts/test.sh` checks the whole run the same way.)

use std::sync::Arc;
use std::time::Duration;

use tokenpair_e2e::browser::live_processes;
use tokenpair_e2e::{eventually, Driver};

#[tokio::test]
async fn a_browser_dropped_while_its_test_panics_ends_chromium_and_all_of_chromium_stays_in_the_drivers_process_group(
) {
    let driver = Arc::new(Driver::start().await);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let d = driver.clone();
    let test = tokio::spawn(async move {
        let browser = d.browser().await;
        browser.goto("about:blank").await.expect("open a page");
        tx.send(d.browser_processes()).expect("report");
        panic!("deliberate panic: a failing test still ends its browser");
    });
    assert!(test.await.expect_err("the task panicked").is_panic());

    let running = rx.await.expect("the processes seen while the browser ran");
    let pgid = driver.pgid();
    let in_group = running.iter().filter(|p| p.pgid == pgid).count();
    assert!(
        running
            .iter()
            .filter(|p| p.comm == "chromium")
            .all(|p| p.pgid == pgid)
            && in_group >= 3,
        "Chromium's browser, zygotes and renderers run in chromedriver's group {pgid}: {running:?}"
    );
    assert!(
        running
            .iter()
            .filter(|p| p.pgid != pgid)
            .all(|p| p.comm.starts_with("chrome_crashpad")),
        "only the crash handler leaves the group (found by its marker): {running:?}"
    );

    // chromedriver still runs: only the ended session can have quit Chromium.
    eventually(
        Duration::from_secs(10),
        "Chromium ended after the panicking test dropped its browser",
        || async { driver.browser_processes().is_empty() },
    )
    .await;
    let pids: Vec<i32> = running.iter().map(|p| p.pid).collect();
    assert!(
        live_processes().iter().all(|p| !pids.contains(&p.pid)),
        "every process of that browser ended"
    );
    drop(Arc::into_inner(driver).expect("the only driver handle"));
    assert!(
        live_processes().iter().all(|p| p.pgid != pgid),
        "chromedriver's group is gone with the driver"
    );
}

#[tokio::test]
async fn dropping_the_driver_kills_a_browser_whose_session_was_never_ended() {
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto("about:blank").await.expect("open a page");
    let running = driver.processes();
    assert!(
        running.iter().any(|p| p.comm == "chromium"),
        "a browser runs: {running:?}"
    );
    // A browser whose session is never ended (as `kill_on_drop` alone used to leave them).
    std::mem::forget(browser);
    drop(driver);
    let pids: Vec<i32> = running.iter().map(|p| p.pid).collect();
    eventually(
        Duration::from_secs(5),
        "every process of the driver ended",
        || async { live_processes().iter().all(|p| !pids.contains(&p.pid)) },
    )
    .await;
}
