//! Waiting on a condition instead of sleeping for a guessed time: a loaded 2-core machine
//! can take longer than any guess, and an idle one should not wait out the guess.

use std::future::Future;
use std::time::Duration;

/// How long any condition may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Checks `done` every 20 ms until it holds; fails the test with `what` after [`PATIENCE`].
pub async fn wait_for<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited {PATIENCE:?} for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
