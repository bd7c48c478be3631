//! Journeys 2–8 in real Chromium against the real release server (3-second access tokens, a
//! fresh SQLite file per server), plus the screenshots and the reload timing.

use std::time::{Duration, Instant};

use tokenpair_e2e::{
    click, eventually, exists, fill, path, sign_in, text_now, text_of, Browser, Driver, Server,
    ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";
const LOGIN_FORM: &str = "#username";

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

#[tokio::test]
async fn after_the_access_token_expires_the_next_request_succeeds_through_a_refresh_not_the_login_page(
) {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;
    let refreshes_before = server.log().matches("refreshed").count();
    // The boot-time restore attempt already counts as one refresh request of this tab.
    let tab_refreshes_before = number(&browser, "[data-testid=refresh-count]").await;

    // Past the 3 s lifetime of the token we signed in with.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    click(&browser, "[data-testid=call-api]").await;

    eventually(Duration::from_secs(5), "a refresh in this tab", || async {
        number(&browser, "[data-testid=refresh-count]").await > tab_refreshes_before
    })
    .await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    assert_eq!(path(&browser).await, "/");
    assert!(!exists(&browser, LOGIN_FORM).await);
    assert!(
        !exists(&browser, "[data-testid=me-error]").await,
        "GET /api/me succeeded"
    );
    assert!(
        server.log().matches("refreshed").count() > refreshes_before,
        "the server rotated the refresh token:\n{}",
        server.log()
    );
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
    click(&browser, "[data-testid=call-api]").await;

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
        click(&browser, "[data-testid=call-api]").await;
        eventually(Duration::from_secs(5), "still signed in", || async {
            exists(&browser, SIGNED_IN).await
        })
        .await;
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
    click(&browser, "[data-testid=call-api]").await;
    eventually(Duration::from_secs(5), "the API answers again", || async {
        exists(&browser, SIGNED_IN).await && !exists(&browser, "[data-testid=me-error]").await
    })
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

/// Saves the README's screenshots: the three protected views (light, 1100 px wide, with a
/// second device on /sessions), the revoke confirmation, and the sign-in page, sessions and
/// token inspector on a 390 px phone in dark mode. They go to `$TOKENPAIR_SCREENSHOTS`
/// (`make screenshots` sets it to docs/screenshots) or, by default, a temporary directory.
#[tokio::test]
async fn screenshots_of_the_dashboard_sessions_and_token_inspector() {
    use tokenpair_e2e::a11y::{self, Scheme};
    let server = long_lived_server().await;
    let driver = Driver::start().await;
    // Another device, so /sessions shows a named device to sign out.
    let windows = driver
        .browser_with_args(&[
            "--user-agent=Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        ])
        .await;
    windows.goto(&server.url("/login")).await.expect("open");
    sign_in(&windows, "user1", "password1").await;
    text_of(&windows, SIGNED_IN).await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;
    browser.set_window_size(1100, 860).await.expect("size");
    a11y::set_color_scheme(&browser, Scheme::Light).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = std::env::var_os("TOKENPAIR_SCREENSHOTS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let save = |name: &'static str| {
        let (browser, dir) = (&browser, &dir);
        async move {
            // Settled: no focus ring from the heading's focus, no half-drawn frame.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let png = browser.screenshot().await.expect("screenshot");
            assert!(png.starts_with(b"\x89PNG"), "a PNG");
            let file = dir.join(name);
            std::fs::write(&file, &png).expect("write screenshot");
            println!("{}: {} bytes", file.display(), png.len());
        }
    };

    for (route, ready, name) in [
        ("/", SIGNED_IN, "dashboard.png"),
        ("/sessions", "[data-testid=revoke]", "sessions.png"),
        ("/token", "[data-testid=jwt]", "token.png"),
    ] {
        click(&browser, &format!("nav a[href='{route}']")).await;
        text_of(&browser, ready).await;
        save(name).await;
    }
    click(&browser, "nav a[href='/sessions']").await;
    click(&browser, "[data-testid=revoke]").await;
    text_of(&browser, "dialog[open] #confirm-title").await;
    save("sessions-confirm.png").await;
    click(&browser, "[data-testid=confirm-cancel]").await;

    // A phone in dark mode.
    a11y::set_viewport(&browser, 390, 844, true).await;
    a11y::set_color_scheme(&browser, Scheme::Dark).await;
    for (route, ready, name) in [
        (
            "/sessions",
            "[data-testid=revoke]",
            "phone-dark-sessions.png",
        ),
        ("/token", "[data-testid=claims]", "phone-dark-token.png"),
    ] {
        click(&browser, &format!("nav a[href='{route}']")).await;
        text_of(&browser, ready).await;
        save(name).await;
    }
    click(&browser, "[data-testid=sign-out]").await;
    text_of(&browser, "#username").await;
    // With a message under its field.
    click(&browser, "[data-testid=submit]").await;
    text_of(&browser, "[data-testid=username-error]").await;
    browser
        .execute("document.activeElement.blur()", vec![])
        .await
        .expect("blur");
    save("phone-dark-login.png").await;
}

/// Prints (does not assert) navigation start → protected view rendered after a reload,
/// silent refresh included: the dashboard sets the performance mark `tokenpair:protected-view`.
#[tokio::test]
async fn reload_to_protected_view_timing_median_of_10() {
    let server = long_lived_server().await;
    let driver = Driver::start().await;
    let browser = signed_in_browser(&server, &driver, ("user1", "password1")).await;

    let mut times = Vec::new();
    for _ in 0..10 {
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
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    let median = (sorted[4] + sorted[5]) / 2.0;
    let shown: Vec<String> = times.iter().map(|t| format!("{t:.1}")).collect();
    println!(
        "reload → protected view (ms): [{}]; median {median:.1} ms (target ≤ 150 ms)",
        shown.join(", ")
    );
}
