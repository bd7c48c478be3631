//! axe-core on every view, signed out and signed in, light and dark, at 1280×800 and 320 px
//! wide: no violation of the WCAG 2.x A/AA rules or of axe's best practices.
//!
//! Each test walks all its pages in every combination and reports every violation it found
//! (rule, impact, help, the failing elements) before failing, so one run shows all of them.

use std::time::Duration;

use tokenpair_e2e::a11y::{self, Scheme};
use tokenpair_e2e::{
    click, eventually, exists, sign_in, text_of, Browser, Driver, Fault, Proxy, Server,
};

/// (width, height, mobile): a laptop and the narrowest phone.
const SIZES: [(u32, u32, bool); 2] = [(1280, 800, false), (320, 640, true)];
const SCHEMES: [Scheme; 2] = [Scheme::Light, Scheme::Dark];

/// Runs axe on what the page shows now and files what it found under `label`.
async fn check(browser: &Browser, label: &str, found: &mut Vec<String>) {
    // Let transitions and the focus move settle.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let violations = a11y::axe(browser).await;
    println!("axe {label}: {} violations", violations.len());
    if !violations.is_empty() {
        found.push(format!("── {label}\n{}", a11y::report(&violations)));
    }
}

/// Sets the colour scheme and the viewport for the page now open.
async fn emulate(browser: &Browser, scheme: Scheme, (w, h, mobile): (u32, u32, bool)) {
    a11y::set_viewport(browser, w, h, mobile).await;
    a11y::set_color_scheme(browser, scheme).await;
}

/// Opens `path` and waits for `ready`; checks the emulated scheme survived the navigation.
async fn open(browser: &Browser, server: &Server, path: &str, ready: &str, scheme: Scheme) {
    browser.goto(&server.url(path)).await.expect("open");
    text_of(browser, ready).await;
    assert_eq!(
        a11y::prefers_dark(browser).await,
        scheme == Scheme::Dark,
        "the colour scheme after opening {path}"
    );
}

fn assert_none(found: Vec<String>) {
    assert!(
        found.is_empty(),
        "axe-core found violations:\n{}",
        found.concat()
    );
}

#[tokio::test]
async fn axe_finds_no_violations_on_the_signed_out_views_light_and_dark_wide_and_narrow() {
    let server = Server::start(Default::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    let mut found = Vec::new();
    for scheme in SCHEMES {
        for size in SIZES {
            emulate(&browser, scheme, size).await;
            let at = format!("{} {}px", scheme.name(), size.0);
            open(&browser, &server, "/login", "#username", scheme).await;
            check(&browser, &format!("/login {at}"), &mut found).await;
            // The form with its messages: empty fields submitted.
            click(&browser, "[data-testid=submit]").await;
            text_of(&browser, "[data-testid=username-error]").await;
            check(&browser, &format!("/login with errors {at}"), &mut found).await;
            open(&browser, &server, "/register", "#username", scheme).await;
            click(&browser, "[data-testid=submit]").await;
            text_of(&browser, "[data-testid=username-error]").await;
            check(&browser, &format!("/register with errors {at}"), &mut found).await;
            open(
                &browser,
                &server,
                "/no-such-page",
                "[data-testid=not-found]",
                scheme,
            )
            .await;
            check(&browser, &format!("404 {at}"), &mut found).await;
        }
    }
    assert_none(found);
}

#[tokio::test]
async fn axe_finds_no_violations_on_the_signed_in_views_and_the_dialog_light_and_dark_wide_and_narrow(
) {
    let server = Server::start(Default::default()).await;
    let driver = Driver::start().await;
    // A second device, so /sessions lists a revoke button too.
    let other = driver.browser().await;
    other.goto(&server.url("/login")).await.expect("open");
    sign_in(&other, "user1", "password1").await;
    text_of(&other, "[data-testid=me-username]").await;

    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, "[data-testid=me-username]").await;
    let mut found = Vec::new();
    for scheme in SCHEMES {
        for size in SIZES {
            emulate(&browser, scheme, size).await;
            let at = format!("{} {}px", scheme.name(), size.0);
            open(&browser, &server, "/", "[data-testid=me-username]", scheme).await;
            check(&browser, &format!("/ {at}"), &mut found).await;
            open(
                &browser,
                &server,
                "/sessions",
                "[data-testid=revoke]",
                scheme,
            )
            .await;
            check(&browser, &format!("/sessions {at}"), &mut found).await;
            click(&browser, "[data-testid=revoke]").await;
            eventually(Duration::from_secs(5), "the dialog", || async {
                exists(&browser, "dialog[open]").await
            })
            .await;
            check(&browser, &format!("/sessions dialog {at}"), &mut found).await;
            click(&browser, "[data-testid=confirm-cancel]").await;
            open(&browser, &server, "/token", "[data-testid=jwt]", scheme).await;
            check(&browser, &format!("/token {at}"), &mut found).await;
            click(&browser, "[data-testid=reveal-signature]").await;
            check(&browser, &format!("/token revealed {at}"), &mut found).await;
            open(
                &browser,
                &server,
                "/account",
                "[data-testid=change-password]",
                scheme,
            )
            .await;
            check(&browser, &format!("/account {at}"), &mut found).await;
        }
    }
    assert_none(found);
}

/// Runs `check` once per colour scheme at 320 px (where colours and wrapping are tightest).
async fn check_both_schemes(browser: &Browser, label: &str, found: &mut Vec<String>) {
    for scheme in SCHEMES {
        a11y::set_color_scheme(browser, scheme).await;
        check(browser, &format!("{label} {}", scheme.name()), found).await;
    }
}

#[tokio::test]
async fn axe_finds_no_violations_in_the_messages_banners_and_notices() {
    let server = Server::start(Default::default()).await;
    let proxy = Proxy::start(server.port()).await;
    let driver = Driver::start().await;
    let other = driver.browser().await;
    other.goto(&proxy.url("/login")).await.expect("open");
    sign_in(&other, "user1", "password1").await;
    text_of(&other, "[data-testid=me-username]").await;
    let browser = driver.browser().await;
    browser.goto(&proxy.url("/login")).await.expect("open");
    a11y::set_viewport(&browser, 320, 640, true).await;
    let mut found = Vec::new();

    // The throttled sign-in: the live countdown.
    proxy.set("POST", "/api/auth/login", Fault::too_many_attempts(60));
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, "[data-testid=form-error]").await;
    check_both_schemes(&browser, "/login throttled", &mut found).await;
    proxy.clear("POST", "/api/auth/login");
    browser.goto(&proxy.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, "[data-testid=me-username]").await;

    // The dashboard while the API fails: the error and the "still signed in" banner.
    proxy.set(
        "GET",
        "/api/me",
        Fault::api_error(503, "unavailable", "The server is restarting."),
    );
    click(&browser, "[data-testid=call-api]").await;
    eventually(Duration::from_secs(10), "the problem banner", || async {
        exists(&browser, "[data-testid=unreachable]").await
    })
    .await;
    check_both_schemes(&browser, "/ with the problem banner", &mut found).await;
    proxy.clear("GET", "/api/me");

    // The result of a revoke.
    click(&browser, "nav a[href='/sessions']").await;
    click(&browser, "[data-testid=revoke]").await;
    click(&browser, "[data-testid=confirm-ok]").await;
    text_of(&browser, "[data-testid=sessions-status]").await;
    eventually(Duration::from_secs(5), "the announced result", || async {
        !text_of(&browser, "[data-testid=sessions-status]")
            .await
            .is_empty()
    })
    .await;
    check_both_schemes(&browser, "/sessions after a revoke", &mut found).await;

    // The sign-in page after "sign out everywhere": the notice.
    click(&browser, "[data-testid=sign-out-everywhere]").await;
    click(&browser, "[data-testid=confirm-ok]").await;
    text_of(&browser, "[data-testid=notice]").await;
    check_both_schemes(&browser, "/login with the notice", &mut found).await;
    assert_none(found);
}
