//! The whole server on a clock the test moves ([`Clock::manual`], injected through
//! `AppState::with_clock`): a day of idleness passes in a moment, and what the sessions and
//! the security events make of it is what they would make of a real day.

mod common;

use std::time::Duration;

use common::*;
use tokenpair_server::clock::Clock;

const IDLE: Duration = Duration::from_secs(24 * 3600);

#[tokio::test]
async fn a_session_refreshed_just_within_its_idle_timeout_lives_on_and_one_left_past_it_ends() {
    let clock = Clock::manual(tokenpair_server::db::now_ms());
    let server = start_on_clock(clock.clone(), |c| {
        c.sessions.refresh_token_idle_timeout = IDLE;
    })
    .await;
    let kept = server.session(USER1_ID).await;
    let left = server.session(USER1_ID).await;

    clock.advance(IDLE - Duration::from_secs(60));
    let kept = server.refresh_ok(&kept.refresh).await;
    clock.advance(Duration::from_secs(120));
    server.refresh_ok(&kept.refresh).await;
    expect_refresh_refused(server.refresh(&left.refresh).await, "session_expired").await;

    // The event is dated when the session lapsed — a day after its last use, on this clock.
    let at = server
        .db()
        .int(
            "SELECT at FROM security_events WHERE kind = 'session_expired'",
            None,
        )
        .await;
    let lapsed = server
        .db()
        .int(
            "SELECT last_used_at FROM sessions WHERE id = $1",
            Some(&left.sid),
        )
        .await
        + IDLE.as_millis() as i64;
    assert_eq!(at, lapsed);
    let detail = server
        .db()
        .text(
            "SELECT detail FROM security_events WHERE kind = 'session_expired'",
            None,
        )
        .await;
    assert_eq!(detail.as_deref(), Some("idle"));
}
