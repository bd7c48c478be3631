//! Step-up (RFC 9470) in Chromium against the real server, with `REAUTH_MAX_AGE` of 2 s: a
//! dangerous action from a sign-in older than that opens the "Confirm it's you" dialog (which
//! says which action it is for and holds the focus); the password completes the action with
//! the original request sent exactly twice in total; Cancel leaves everything as it was; a
//! password change ends the other sessions and says so. axe finds nothing on the dialog or
//! the account screen.

use std::time::Duration;

use tokenpair_e2e::a11y;
use tokenpair_e2e::{
    answers, click, eventually, exists, fill, focused, sign_in, text_of, Driver, Server,
    ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";

async fn server() -> Server {
    Server::start(ServerOptions {
        access_token_expiry: "5m",
        extra_args: vec!["--reauth-max-age".into(), "2s".into()],
        ..ServerOptions::default()
    })
    .await
}

/// Whether the re-authentication dialog is open.
async fn dialog_open(browser: &fantoccini::Client) -> bool {
    browser
        .execute(
            "const d = document.querySelector('[data-testid=reauth]'); return !!d && d.open;",
            vec![],
        )
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

async fn wait_for_dialog(browser: &fantoccini::Client, open: bool) {
    eventually(
        Duration::from_secs(10),
        if open {
            "the re-authentication dialog opens"
        } else {
            "the re-authentication dialog closes"
        },
        || async { dialog_open(browser).await == open },
    )
    .await;
}

async fn axe_clean(browser: &fantoccini::Client, what: &str) {
    tokio::time::sleep(Duration::from_millis(150)).await;
    let violations = a11y::axe(browser).await;
    assert!(
        violations.is_empty(),
        "axe on {what}:\n{}",
        a11y::report(&violations)
    );
}

/// Signs in in the browser and waits until that sign-in is older than `REAUTH_MAX_AGE`.
async fn signed_in_a_while_ago(browser: &fantoccini::Client, server: &Server) {
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(browser, "user1", "password1").await;
    text_of(browser, SIGNED_IN).await;
    tokio::time::sleep(Duration::from_millis(3_100)).await;
}

#[tokio::test]
async fn signing_out_everywhere_after_a_while_asks_for_the_password_then_sends_the_request_exactly_twice(
) {
    let server = server().await;
    let phone = server.sign_in_elsewhere("user1", "password1").await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    signed_in_a_while_ago(&browser, &server).await;

    browser.goto(&server.url("/sessions")).await.expect("open");
    click(&browser, "[data-testid=sign-out-everywhere]").await;
    click(&browser, "[data-testid=confirm-ok]").await;
    wait_for_dialog(&browser, true).await;
    let text = text_of(&browser, "[data-testid=reauth-text]").await;
    assert!(text.contains("sign out everywhere"), "{text}");
    assert_eq!(
        focused(&browser).await,
        "input#reauth-password[reauth-password]+dialog",
        "the focus is in the dialog"
    );
    assert_eq!(answers(&browser, "/api/auth/logout").await, [401]);
    assert!(
        exists(&browser, "[data-testid=whoami]").await,
        "still signed in while asking"
    );
    axe_clean(&browser, "the re-authentication dialog").await;

    // A wrong password first: refused, the dialog stays, nothing is sent again.
    fill(&browser, "[data-testid=reauth-password]", "not-it").await;
    click(&browser, "[data-testid=reauth-submit]").await;
    let error = text_of(&browser, "[data-testid=reauth-error]").await;
    assert!(error.contains("not your password"), "{error}");
    assert!(dialog_open(&browser).await);

    fill(&browser, "[data-testid=reauth-password]", "password1").await;
    click(&browser, "[data-testid=reauth-submit]").await;
    let notice = text_of(&browser, "[data-testid=notice]").await;
    assert!(notice.to_lowercase().contains("everywhere"), "{notice}");
    assert_eq!(
        answers(&browser, "/api/auth/logout").await,
        [401, 204],
        "the original request, sent exactly twice in total"
    );
    assert_eq!(
        answers(&browser, "/api/auth/reauthenticate").await,
        [401, 200]
    );
    assert_eq!(
        server.refresh_elsewhere(&phone).await,
        None,
        "the other device's session ended"
    );
}

#[tokio::test]
async fn cancelling_the_confirmation_leaves_everything_as_it_was() {
    let server = server().await;
    let phone = server.sign_in_elsewhere("user1", "password1").await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    signed_in_a_while_ago(&browser, &server).await;

    browser.goto(&server.url("/sessions")).await.expect("open");
    click(&browser, "[data-testid=sign-out-everywhere]").await;
    click(&browser, "[data-testid=confirm-ok]").await;
    wait_for_dialog(&browser, true).await;
    click(&browser, "[data-testid=reauth-cancel]").await;
    wait_for_dialog(&browser, false).await;
    let status = text_of(&browser, "[data-testid=sessions-status]").await;
    assert!(status.contains("Nothing was changed"), "{status}");
    assert!(
        exists(&browser, "[data-testid=whoami]").await,
        "still signed in"
    );
    assert_eq!(
        answers(&browser, "/api/auth/logout").await,
        [401],
        "sent once, never again"
    );
    assert!(
        server.refresh_elsewhere(&phone).await.is_some(),
        "the other session lives"
    );

    // Ending another device from the list: the same question, cancelled with Escape.
    browser.goto(&server.url("/sessions")).await.expect("open");
    click(&browser, "[data-testid=revoke]").await;
    click(&browser, "[data-testid=confirm-ok]").await;
    wait_for_dialog(&browser, true).await;
    let text = text_of(&browser, "[data-testid=reauth-text]").await;
    assert!(text.contains("sign out another device"), "{text}");
    tokenpair_e2e::press(&browser, fantoccini::key::Key::Escape).await;
    wait_for_dialog(&browser, false).await;
    let status = text_of(&browser, "[data-testid=sessions-status]").await;
    assert!(status.contains("Cancelled"), "{status}");
    assert_eq!(
        browser
            .find_all(fantoccini::Locator::Css("[data-testid=session]"))
            .await
            .expect("rows")
            .len(),
        2,
        "both sessions still listed"
    );
}

#[tokio::test]
async fn changing_the_password_asks_to_confirm_and_ends_every_other_session() {
    let server = server().await;
    let phone = server.sign_in_elsewhere("user1", "password1").await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    signed_in_a_while_ago(&browser, &server).await;

    browser.goto(&server.url("/account")).await.expect("open");
    text_of(&browser, "[data-testid=change-password]").await;
    axe_clean(&browser, "the account screen").await;
    fill(&browser, "[data-testid=current-password]", "password1").await;
    fill(
        &browser,
        "[data-testid=new-password]",
        "a brand new passphrase",
    )
    .await;
    click(&browser, "[data-testid=change-password-submit]").await;
    wait_for_dialog(&browser, true).await;
    let text = text_of(&browser, "[data-testid=reauth-text]").await;
    assert!(text.contains("change your password"), "{text}");
    fill(&browser, "[data-testid=reauth-password]", "password1").await;
    click(&browser, "[data-testid=reauth-submit]").await;
    eventually(
        Duration::from_secs(10),
        "the change is confirmed",
        || async {
            text_of(&browser, "[data-testid=password-status]")
                .await
                .contains("1 other session was signed out")
        },
    )
    .await;
    assert_eq!(
        answers(&browser, "/api/account/password").await,
        [401, 200],
        "sent exactly twice"
    );
    assert_eq!(
        server.refresh_elsewhere(&phone).await,
        None,
        "the other session ended"
    );
    // This one lives on; the new password signs in, the old one no longer does.
    browser.goto(&server.url("/")).await.expect("open");
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    server
        .sign_in_elsewhere("user1", "a brand new passphrase")
        .await;
}
