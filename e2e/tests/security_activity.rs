//! Security activity in the browser (issue 23): after a reuse attack driven from outside the
//! browser — a stolen refresh cookie replayed by a script — the victim, signed in again, sees
//! the dashboard's notice once and the event in the "Security activity" view; axe finds no
//! violation on either.

use std::time::Duration;

use tokenpair_e2e::a11y::{self, Scheme};
use tokenpair_e2e::{
    always, exists, http_request, refresh_cookie_value, reload, sign_in, text_of, Driver, Server,
    ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";
const FIREFOX_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[tokio::test]
async fn after_a_replayed_refresh_token_the_victim_sees_the_notice_once_and_the_event_in_the_activity_view(
) {
    // DPOP=off: an unbound refresh token, as on a server without DPoP, so the copy is a
    // working credential and its replay is refresh-token reuse. (With DPoP the same copy is
    // refused without a proof by the browser's key: e2e/tests/dpop.rs.)
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        extra_args: vec!["--dpop".into(), "off".into()],
        ..ServerOptions::default()
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;

    // The thief copies the refresh cookie (WebDriver sees HttpOnly cookies; malware would read
    // the browser's profile) from a page under its Path.
    let stolen = refresh_cookie_value(&browser, &server.url("/api/auth/refresh")).await;
    // The victim goes on: two reloads, two rotations; the stolen token is two generations old.
    for _ in 0..2 {
        browser.goto(&server.url("/")).await.expect("open");
        text_of(&browser, SIGNED_IN).await;
        reload(&browser).await;
        text_of(&browser, SIGNED_IN).await;
    }

    let cookie = format!("__Secure-refresh_token={stolen}");
    let replay = http_request(
        "POST",
        &server.url("/api/auth/refresh"),
        &[
            ("Cookie", &cookie),
            ("X-Requested-With", "XMLHttpRequest"),
            ("User-Agent", FIREFOX_ON_LINUX),
        ],
    )
    .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(
        replay.body.contains("refresh_token_reused"),
        "{}",
        replay.body
    );

    // The session ended: the victim signs in again and is told, once.
    reload(&browser).await;
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    let notice = text_of(&browser, "[data-testid=security-notice]").await;
    assert!(
        notice.contains("An old sign-in token was used again from Firefox on Linux"),
        "{notice}"
    );
    for scheme in [Scheme::Light, Scheme::Dark] {
        a11y::set_color_scheme(&browser, scheme).await;
        let violations = a11y::axe(&browser).await;
        assert!(
            violations.is_empty(),
            "dashboard with the notice ({}):\n{}",
            scheme.name(),
            a11y::report(&violations)
        );
    }
    reload(&browser).await;
    text_of(&browser, SIGNED_IN).await;
    always(
        Duration::from_secs(1),
        "the notice is shown once",
        || async { !exists(&browser, "[data-testid=security-notice]").await },
    )
    .await;

    // The activity view tells the story, newest first, this device marked.
    browser.goto(&server.url("/activity")).await.expect("open");
    text_of(&browser, "[data-testid=activity]").await;
    let events = browser
        .find_all(fantoccini::Locator::Css("[data-testid=event]"))
        .await
        .expect("events");
    let mut kinds = Vec::new();
    for e in &events {
        kinds.push(e.attr("data-kind").await.ok().flatten().unwrap_or_default());
    }
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("signed_in"),
        "{kinds:?}"
    );
    assert!(
        kinds.iter().any(|k| k == "refresh_token_reused"),
        "{kinds:?}"
    );
    let reused = text_of(&browser, "[data-kind=refresh_token_reused]").await;
    assert!(
        reused.contains("we signed that device out to be safe") && reused.contains("127.0.0.0/24"),
        "{reused}"
    );
    let current = text_of(&browser, "[data-testid=event]:first-child").await;
    assert!(current.contains("this device"), "{current}");
    for scheme in [Scheme::Light, Scheme::Dark] {
        for (w, h, mobile) in [(1280, 800, false), (320, 640, true)] {
            a11y::set_viewport(&browser, w, h, mobile).await;
            a11y::set_color_scheme(&browser, scheme).await;
            browser.goto(&server.url("/activity")).await.expect("open");
            text_of(&browser, "[data-testid=activity]").await;
            tokio::time::sleep(Duration::from_millis(150)).await;
            let violations = a11y::axe(&browser).await;
            assert!(
                violations.is_empty(),
                "/activity {} {w}px:\n{}",
                scheme.name(),
                a11y::report(&violations)
            );
        }
    }
}
