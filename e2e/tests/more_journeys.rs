//! Journeys 2–8 in real Chromium against the real release server (3-second access tokens, a
//! fresh SQLite file per server). The screenshots and the reload timing are reports, not
//! tests: `e2e/examples/` (`make screenshots`, `make bench`).

use std::time::{Duration, Instant};

use tokenpair_e2e::{
    answer_count, click, eventually, exists, fill, path, sign_in, text_now, text_of,
    wait_for_fresh_answer, Browser, Driver, Server, ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";
const LOGIN_FORM: &str = "#username";
/// What the dashboard's "call the API" button asks.
const ME: &str = "/api/me";

async fn signed_in_browser(server: &Server, driver: &Driver, user: (&str, &str)) -> Browser {
    let browser = driver.browser().await;
    browser
        .goto(&server.url("/login"))
        .await
        .expect("open /login");
    sign_in(&browser, user.0, user.1).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, user.0);
    browser
}

/// Fills the login/register form (replacing what it held) and submits it.
async fn submit_credentials(browser: &fantoccini::Client, username: &str, password: &str) {
    fill(browser, "#username", username).await;
    fill(browser, "#password", password).await;
    click(browser, "[data-testid=submit]").await;
}

/// How many sessions the /sessions page lists now.
async fn session_rows(browser: &fantoccini::Client) -> usize {
    browser
        .find_all(fantoccini::Locator::Css("[data-testid=session]"))
        .await
        .map(|rows| rows.len())
        .unwrap_or(0)
}

/// A server whose access tokens outlive the test (for screenshots and timings).
async fn long_lived_server() -> Server {
    Server::start(ServerOptions {
        access_token_expiry: "5m",
        ..ServerOptions::default()
    })
    .await
}

async fn number(browser: &fantoccini::Client, css: &str) -> u32 {
    text_now(browser, css)
        .await
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0)
}

/// The client refreshes ahead of expiry, so the request after the token's lifetime goes out
/// with a renewed token: this proves the session outlives its access tokens in a real
/// browser. The 401 → refresh → retry path itself is the next test (there the token in
/// memory is refused).
#[tokio::test]
async fn past_the_access_tokens_lifetime_api_calls_keep_succeeding_through_refreshes_not_the_login_page(
) {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;
    let refreshes_before = server.log().matches("refreshed").count();
    // The boot-time restore attempt already counts as one refresh request of this tab.
    let tab_refreshes_before = number(&browser, "[data-testid=refresh-count]").await;

    // Past the 3 s lifetime of the token we signed in with.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let seen = answer_count(&browser, ME).await;
    click(&browser, "[data-testid=call-api]").await;
    let fresh = wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(5)).await;
    assert_eq!(fresh, [200], "answered at once, no 401 on the way");

    assert!(
        number(&browser, "[data-testid=refresh-count]").await > tab_refreshes_before,
        "this tab refreshed"
    );
    assert!(
        server.log().matches("refreshed").count() > refreshes_before,
        "the server rotated the refresh token:\n{}",
        server.log()
    );
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    assert_eq!(path(&browser).await, "/");
    assert!(!exists(&browser, LOGIN_FORM).await);
    assert!(!exists(&browser, "[data-testid=me-error]").await);
}

#[tokio::test]
async fn a_401_on_an_api_call_triggers_one_refresh_and_one_retry_that_succeeds() {
    // Long-lived tokens, so no proactive refresh: the 401 path is the only way to a new token.
    let mut server = long_lived_server().await;
    let driver = Driver::start().await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;
    let tab_refreshes_before = number(&browser, "[data-testid=refresh-count]").await;

    // New signing key: the access token in the tab's memory is now refused (unknown `kid`).
    server
        .restart_with_new_key("e2e-rotated-secret-abcdefghijklmnopqrstuvwxyz-0123456789")
        .await;
    let seen = answer_count(&browser, ME).await;
    click(&browser, "[data-testid=call-api]").await;
    let fresh = wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(5)).await;
    assert_eq!(fresh, [401, 200], "refused, then the retry answered");

    eventually(Duration::from_secs(5), "the retried request", || async {
        text_now(&browser, "[data-testid=last-event]")
            .await
            .is_some_and(|e| e.contains("retried once"))
    })
    .await;
    assert_eq!(
        number(&browser, "[data-testid=refresh-count]").await,
        tab_refreshes_before + 1,
        "exactly one refresh"
    );
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    assert!(
        !exists(&browser, "[data-testid=me-error]").await,
        "the retry succeeded"
    );
    assert!(!exists(&browser, LOGIN_FORM).await);
    assert_eq!(
        server.log().matches("refreshed").count(),
        1,
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn a_reload_restores_the_session_through_the_cookie_without_ever_showing_the_login_page() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;

    browser.refresh().await.expect("reload");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert_ne!(path(&browser).await, "/login", "the login route showed");
        assert!(!exists(&browser, LOGIN_FORM).await, "the login form showed");
        if exists(&browser, SIGNED_IN).await {
            break;
        }
        assert!(Instant::now() < deadline, "no dashboard after reload");
    }
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
}

#[tokio::test]
async fn a_deep_link_while_signed_out_goes_through_login_and_back_to_that_page() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    browser.goto(&server.url("/sessions")).await.expect("open");
    eventually(Duration::from_secs(10), "redirect to /login", || async {
        path(&browser).await == "/login"
    })
    .await;
    let url = browser.current_url().await.expect("url");
    assert_eq!(url.query(), Some("next=%2Fsessions"));

    sign_in(&browser, "user1", "password1").await;
    eventually(Duration::from_secs(10), "back on /sessions", || async {
        path(&browser).await == "/sessions" && exists(&browser, "[data-testid=session]").await
    })
    .await;
}

#[tokio::test]
async fn two_tabs_refreshing_together_stay_signed_in_and_signing_out_in_one_signs_out_the_other() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;
    let first = browser.window().await.expect("window");

    let second = browser.new_window(false).await.expect("new window").handle;
    browser
        .switch_to_window(second.clone())
        .await
        .expect("switch");
    browser.goto(&server.url("/")).await.expect("open");
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");

    // Both tabs hold 3 s tokens: let several refresh rounds of both happen.
    tokio::time::sleep(Duration::from_secs(7)).await;
    for window in [&first, &second] {
        browser
            .switch_to_window(window.clone())
            .await
            .expect("switch");
        let seen = answer_count(&browser, ME).await;
        click(&browser, "[data-testid=call-api]").await;
        wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(5)).await;
        assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
        assert!(!exists(&browser, LOGIN_FORM).await);
    }
    assert!(
        !server.log().contains("reuse"),
        "no refresh counted as reuse:\n{}",
        server.log()
    );

    // Sign out in the second tab: the first follows within a second.
    click(&browser, "[data-testid=sign-out]").await;
    browser.switch_to_window(first).await.expect("switch");
    let started = Instant::now();
    eventually(
        Duration::from_secs(1),
        "the other tab shows the login page",
        || async { exists(&browser, LOGIN_FORM).await },
    )
    .await;
    println!("other tab signed out after {:?}", started.elapsed());
}

#[tokio::test]
async fn revoking_a_session_and_signing_out_everywhere_sign_out_the_other_browser_at_its_next_request(
) {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let mine = signed_in_browser(&server, &driver, ("user1", "password1")).await;
    let other = signed_in_browser(&server, &driver, ("user1", "password1")).await;

    // Revoke the other browser's session from /sessions.
    mine.goto(&server.url("/sessions")).await.expect("open");
    eventually(Duration::from_secs(10), "two sessions listed", || async {
        session_rows(&mine).await == 2
    })
    .await;
    // The other device is named, and its button says which one it signs out.
    let revoke = text_of(&mine, "[data-testid=revoke]").await;
    assert_eq!(revoke, "Sign out Headless Chrome on Linux");
    click(&mine, "[data-testid=revoke]").await;
    // Nothing happens before the confirmation.
    assert!(text_of(&mine, "dialog[open] #confirm-title")
        .await
        .contains("Headless Chrome on Linux"));
    assert_eq!(session_rows(&mine).await, 2);
    click(&mine, "[data-testid=confirm-ok]").await;
    eventually(Duration::from_secs(5), "one session left", || async {
        session_rows(&mine).await == 1
    })
    .await;
    assert_eq!(
        text_of(&mine, "[data-testid=sessions-status]").await,
        "Signed out Headless Chrome on Linux."
    );

    click(&other, "[data-testid=call-api]").await;
    eventually(
        Duration::from_secs(5),
        "the other browser is signed out",
        || async { exists(&other, LOGIN_FORM).await },
    )
    .await;
    assert!(
        text_of(&other, "[data-testid=notice]")
            .await
            .contains("Your session ended"),
        "it says why"
    );

    // Sign in there again, then "sign out everywhere" here.
    sign_in(&other, "user1", "password1").await;
    assert_eq!(text_of(&other, SIGNED_IN).await, "user1");
    click(&mine, "[data-testid=sign-out-everywhere]").await;
    click(&mine, "[data-testid=confirm-ok]").await;
    eventually(
        Duration::from_secs(5),
        "this browser is signed out",
        || async { exists(&mine, LOGIN_FORM).await },
    )
    .await;
    assert!(
        text_of(&mine, "[data-testid=notice]")
            .await
            .contains("signed out everywhere"),
        "the login page says what happened"
    );
    click(&other, "[data-testid=call-api]").await;
    eventually(
        Duration::from_secs(5),
        "the other browser is signed out",
        || async { exists(&other, LOGIN_FORM).await },
    )
    .await;
}

#[tokio::test]
async fn while_the_server_is_down_the_app_keeps_the_user_and_recovers_by_itself_when_it_is_back() {
    let mut server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;

    server.stop().await;
    click(&browser, "[data-testid=call-api]").await;
    eventually(
        Duration::from_secs(10),
        "the unreachable banner",
        || async { exists(&browser, "[data-testid=unreachable]").await },
    )
    .await;
    // Past the access token's lifetime too: still not signed out.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(path(&browser).await, "/");
    assert!(!exists(&browser, LOGIN_FORM).await);
    assert_eq!(text_of(&browser, "[data-testid=whoami]").await, "user1");

    server.start_again().await;
    eventually(
        Duration::from_secs(10),
        "the banner goes away by itself",
        || async { !exists(&browser, "[data-testid=unreachable]").await },
    )
    .await;
    let seen = answer_count(&browser, ME).await;
    click(&browser, "[data-testid=call-api]").await;
    wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(5)).await;
    eventually(
        Duration::from_secs(5),
        "the dashboard shows the answer",
        || async {
            exists(&browser, SIGNED_IN).await && !exists(&browser, "[data-testid=me-error]").await
        },
    )
    .await;
    assert!(!exists(&browser, LOGIN_FORM).await);
}

#[tokio::test]
async fn a_wrong_password_shows_the_message_and_repeated_failures_show_the_throttle_message() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");

    submit_credentials(&browser, "user1", "not-the-password").await;
    assert_eq!(
        text_of(&browser, "[data-testid=form-error]").await,
        "Wrong username or password."
    );
    assert_eq!(path(&browser).await, "/login");

    // A failed attempt leaves no password behind.
    let cleared = browser
        .execute("return document.querySelector('#password').value", vec![])
        .await
        .expect("read the field");
    assert_eq!(cleared, serde_json::json!(""));

    let mut throttled = None;
    for _ in 0..8 {
        fill(&browser, "#password", "not-the-password").await;
        click(&browser, "[data-testid=submit]").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        eventually(Duration::from_secs(5), "the answer", || async {
            text_now(&browser, "[data-testid=submit]").await.as_deref() == Some("Sign in")
        })
        .await;
        let message = text_of(&browser, "[data-testid=form-error]").await;
        if message.starts_with("Too many failed sign-in attempts") {
            throttled = Some(message);
            break;
        }
    }
    let message = throttled.expect("the throttle message after repeated failures");
    assert!(message.contains("Try again in"), "{message}");
    assert_eq!(path(&browser).await, "/login");
    assert!(!exists(&browser, SIGNED_IN).await);
}

#[tokio::test]
async fn registering_signs_in_and_after_sign_out_the_back_button_shows_no_protected_data() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/register")).await.expect("open");

    submit_credentials(&browser, "new_user.e2e", "a long enough password").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "new_user.e2e");
    assert_eq!(path(&browser).await, "/");

    click(&browser, "[data-testid=sign-out]").await;
    eventually(Duration::from_secs(5), "the login page", || async {
        path(&browser).await == "/login" && exists(&browser, LOGIN_FORM).await
    })
    .await;

    browser.back().await.expect("back");
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        assert!(
            !exists(&browser, SIGNED_IN).await,
            "protected data after sign-out + back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        exists(&browser, LOGIN_FORM).await,
        "back lands on the login form"
    );
}
