//! Part of `make bench`: navigation start → protected view rendered after a reload, silent
//! refresh included, in real Chromium against the release server (the dashboard sets the
//! performance mark `tokenpair:protected-view`). Prints the ten times and their median
//! against the 150 ms target; asserts nothing (a figure, not a test).

use std::time::Duration;

use tokenpair_e2e::{sign_in, text_of, Driver, Server, ServerOptions};

const SIGNED_IN: &str = "[data-testid=me-username]";
const RUNS: usize = 10;

#[tokio::main]
async fn main() {
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        ..ServerOptions::default()
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;

    let mut times = Vec::new();
    for _ in 0..RUNS {
        browser.refresh().await.expect("reload");
        text_of(&browser, SIGNED_IN).await;
        let ms = browser
            .execute(
                "const m = performance.getEntriesByName('tokenpair:protected-view');
                 return m.length ? m[0].startTime : null;",
                vec![],
            )
            .await
            .expect("read the mark")
            .as_f64()
            .expect("the dashboard set its performance mark");
        times.push(ms);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[RUNS / 2 - 1] + sorted[RUNS / 2]) / 2.0;
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!(
        "reload → protected view (ms): [{}]; median {median:.1} ms (target ≤ 150 ms)",
        shown.join(", ")
    );
}
