//! What the page itself received: the browser's own network log (Resource Timing), per
//! document. A click followed by a look at the screen may see the screen the *previous*
//! answer left; these helpers wait for a *fresh* answer instead.
//!
//! Take [`answer_count`] before the action, then [`wait_for_fresh_answer`] after it. The log
//! belongs to the document: a reload starts a new one (take the count after the reload).

use std::time::{Duration, Instant};

use fantoccini::Client;

/// The statuses of the answers this document received for `path` (the query ignored), in
/// the order they finished. A request that got no answer at all reports 0.
pub async fn answers(browser: &Client, path: &str) -> Vec<u16> {
    let value = browser
        .execute(
            "performance.setResourceTimingBufferSize(100000);
             return performance.getEntriesByType('resource')
               .filter(e => new URL(e.name).pathname === arguments[0])
               .sort((a, b) => a.responseEnd - b.responseEnd)
               .map(e => e.responseStatus);",
            vec![path.into()],
        )
        .await
        .unwrap_or_else(|e| panic!("read the network log for {path}: {e}"));
    value
        .as_array()
        .map(|a| a.iter().map(|s| s.as_u64().unwrap_or(0) as u16).collect())
        .unwrap_or_default()
}

/// How many answers this document received for `path` so far.
pub async fn answer_count(browser: &Client, path: &str) -> usize {
    answers(browser, path).await.len()
}

/// Waits until one of the answers for `path` after the first `seen` has `status`, and
/// returns every answer after `seen` (a 401 and its retry, say). Panics with what did
/// arrive after `timeout`.
pub async fn wait_for_fresh_answer(
    browser: &Client,
    path: &str,
    seen: usize,
    status: u16,
    timeout: Duration,
) -> Vec<u16> {
    let deadline = Instant::now() + timeout;
    loop {
        let fresh: Vec<u16> = answers(browser, path)
            .await
            .into_iter()
            .skip(seen)
            .collect();
        if fresh.contains(&status) {
            return fresh;
        }
        assert!(
            Instant::now() < deadline,
            "no fresh {status} for {path} within {timeout:?}; after the first {seen}: {fresh:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
