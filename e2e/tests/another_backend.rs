//! tokenpair-client against a backend that is not tokenpair's, in real Chromium: the example
//! app `client/examples/third_party_app.rs`, served by a token API shaped like a typical
//! third-party one (other paths, OAuth field names, a form body to sign in, its own CSRF
//! header, no session id, no "optional restore", `400 invalid_grant` for a dead refresh token:
//! `tokenpair_e2e::third_party`). Only the example's `Protocol` impl knows any of that.

use std::time::{Duration, Instant};

use tokenpair_e2e::third_party::Stats;
use tokenpair_e2e::{
    click, eventually, fill, open_window, reload, switch_to, text_now, Browser, Driver, ThirdParty,
};

/// Signs in through the example's form.
async fn sign_in(browser: &Browser, username: &str, password: &str) {
    fill(browser, "#username", username).await;
    fill(browser, "#password", password).await;
    click(browser, "[data-testid=sign-in]").await;
}

/// Waits until `css` shows `text`.
async fn shows(browser: &Browser, css: &str, text: &str) {
    eventually(
        Duration::from_secs(10),
        &format!("{css} shows {text:?}"),
        || async { text_now(browser, css).await.as_deref() == Some(text) },
    )
    .await;
}

/// A backend with 300 s tokens, a browser on its page, signed in as Ada.
async fn signed_in(driver: &Driver) -> (ThirdParty, Browser) {
    let backend = ThirdParty::start(Duration::from_secs(300)).await;
    let browser = driver.browser().await;
    browser.goto(&backend.url("/")).await.expect("open the app");
    sign_in(&browser, "ada", "lovelace").await;
    shows(&browser, "[data-testid=user]", "Ada Lovelace").await;
    shows(
        &browser,
        "[data-testid=profile]",
        "Ada Lovelace <ada@example.test>",
    )
    .await;
    (backend, browser)
}

fn assert_csrf_always_sent(stats: &Stats) {
    assert_eq!(
        stats.missing_csrf, 0,
        "its CSRF header went with every request"
    );
}

#[tokio::test]
async fn signing_in_shows_the_profile_and_the_refresh_token_stays_in_an_http_only_cookie() {
    let driver = Driver::start().await;
    let (backend, browser) = signed_in(&driver).await;
    // A wrong password is refused with the backend's own sentence.
    let other = driver.browser().await;
    other.goto(&backend.url("/")).await.unwrap();
    sign_in(&other, "ada", "wrong").await;
    shows(&other, "[data-testid=error]", "Wrong username or password.").await;
    other.close().await.unwrap();
    // Nothing in script-readable storage; the refresh cookie is HttpOnly, under /auth.
    let storage = browser
        .execute(
            "return JSON.stringify(localStorage) + sessionStorage.length + document.cookie",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(storage.as_str(), Some("{}0"));
    browser.goto(&backend.url("/auth/")).await.unwrap();
    let cookies = browser.get_all_cookies().await.unwrap();
    let rt = cookies
        .iter()
        .find(|c| c.name() == "rt")
        .expect("the refresh cookie");
    assert_eq!(rt.http_only(), Some(true));
    assert_eq!(rt.path(), Some("/auth"));
    let stats = backend.stats();
    assert_eq!((stats.sign_ins, stats.profiles_served), (1, 1));
    assert_csrf_always_sent(&stats);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_the_call_retried() {
    let driver = Driver::start().await;
    let (backend, browser) = signed_in(&driver).await;
    shows(&browser, "[data-testid=profile-answers]", "1").await;
    backend.expire_access_tokens();
    click(&browser, "[data-testid=load-profile]").await;
    // A new answer (the counter moved), and it is the profile, not an error.
    shows(&browser, "[data-testid=profile-answers]", "2").await;
    shows(
        &browser,
        "[data-testid=profile]",
        "Ada Lovelace <ada@example.test>",
    )
    .await;
    let stats = backend.stats();
    assert_eq!(stats.profiles_refused, 1, "one 401");
    assert_eq!(stats.rotations, 1, "one refresh");
    assert_eq!(stats.profiles_served, 2, "one retry, served");
    assert_csrf_always_sent(&stats);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_reload_restores_the_session_through_the_refresh_cookie() {
    let driver = Driver::start().await;
    let (backend, browser) = signed_in(&driver).await;
    reload(&browser).await;
    shows(&browser, "[data-testid=user]", "Ada Lovelace").await;
    shows(
        &browser,
        "[data-testid=profile]",
        "Ada Lovelace <ada@example.test>",
    )
    .await;
    let stats = backend.stats();
    assert_eq!(stats.sign_ins, 1, "no new sign-in");
    assert_eq!(stats.rotations, 1, "the restore rotated the cookie once");
    assert_eq!(
        stats.refusals, 1,
        "only the first visit's, before signing in"
    );
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_visit_without_a_session_shows_the_sign_in_form_and_no_notice() {
    let driver = Driver::start().await;
    let backend = ThirdParty::start(Duration::from_secs(300)).await;
    let browser = driver.browser().await;
    browser.goto(&backend.url("/")).await.unwrap();
    eventually(Duration::from_secs(10), "the sign-in form", || async {
        text_now(&browser, "[data-testid=sign-in]").await.is_some()
    })
    .await;
    assert_eq!(text_now(&browser, "[data-testid=notice]").await, None);
    // Its refresh refused with 400 invalid_grant: at page load that just means "nobody".
    assert_eq!(backend.stats().refusals, 1);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn two_tabs_share_the_session_and_rotate_it_once_per_token_lifetime() {
    let driver = Driver::start().await;
    // 3 s tokens: each is replaced 0.6–1.1 s before it expires (margin and jitter).
    let backend = ThirdParty::start(Duration::from_secs(3)).await;
    let browser = driver.browser().await;
    browser.goto(&backend.url("/")).await.unwrap();
    let first = browser.window().await.unwrap();
    sign_in(&browser, "ada", "lovelace").await;
    shows(&browser, "[data-testid=user]", "Ada Lovelace").await;
    let second = open_window(&browser, &backend.url("/")).await;
    shows(&browser, "[data-testid=user]", "Ada Lovelace").await;
    let before = backend.stats();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let elapsed = started.elapsed().as_secs_f64();
    for window in [&first, &second] {
        switch_to(&browser, window).await;
        shows(&browser, "[data-testid=user]", "Ada Lovelace").await;
        click(&browser, "[data-testid=load-profile]").await;
        shows(
            &browser,
            "[data-testid=profile]",
            "Ada Lovelace <ada@example.test>",
        )
        .await;
    }
    let stats = backend.stats();
    let rotations = stats.rotations - before.rotations;
    assert_eq!(
        stats.reuse_detected, 0,
        "no refresh token was presented twice"
    );
    assert_eq!(stats.refusals, before.refusals, "no refresh was refused");
    assert!(
        rotations >= 4,
        "kept refreshing: {rotations} in {elapsed:.1} s"
    );
    assert!(
        f64::from(rotations) <= elapsed / 1.9 + 1.0,
        "{rotations} rotations in {elapsed:.1} s: more than one per token lifetime"
    );
    assert_csrf_always_sent(&stats);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server_and_a_reload_stays_signed_out() {
    let driver = Driver::start().await;
    let (backend, browser) = signed_in(&driver).await;
    click(&browser, "[data-testid=sign-out]").await;
    shows(&browser, "[data-testid=notice]", "You are signed out.").await;
    assert_eq!(backend.stats().logouts, 1);
    reload(&browser).await;
    eventually(Duration::from_secs(10), "the sign-in form", || async {
        text_now(&browser, "[data-testid=sign-in]").await.is_some()
    })
    .await;
    assert_eq!(text_now(&browser, "[data-testid=user]").await, None);
    browser.close().await.unwrap();
}

#[tokio::test]
async fn a_dead_refresh_token_signs_out_with_the_reason_shown() {
    let driver = Driver::start().await;
    let (backend, browser) = signed_in(&driver).await;
    backend.kill_refresh_tokens();
    backend.expire_access_tokens();
    click(&browser, "[data-testid=load-profile]").await;
    // 401 → refresh → 400 invalid_grant: the session is over, and the page says so.
    shows(
        &browser,
        "[data-testid=notice]",
        "Your session ended — please sign in again.",
    )
    .await;
    let events = text_now(&browser, "[data-testid=events]")
        .await
        .unwrap_or_default();
    assert!(
        events.contains("signed out: SessionEnded { code: \"invalid_grant\" }"),
        "{events}"
    );
    browser.close().await.unwrap();
}
