//! Passkeys end to end, in Chromium with chromedriver's virtual authenticator (a platform
//! authenticator with resident keys and user verification) against the real server, on
//! `http://localhost:PORT` — a valid WebAuthn relying-party id, unlike `127.0.0.1`. A passkey
//! added on `/account` signs in through the username field's autofill (conditional mediation)
//! and through the "Sign in with a passkey" button, confirms a dangerous action in the step-up
//! dialog, and once deleted signs nobody in. axe finds nothing on the account screen.

use std::time::Duration;

use tokenpair_e2e::webauthn::VirtualAuthenticator;
use tokenpair_e2e::{
    a11y, answers, click, eventually, exists, fill, sign_in, text_of, Driver, Server, ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";

/// Whether someone is signed in: the header names them (on every view).
async fn signed_in(browser: &fantoccini::Client) -> bool {
    tokenpair_e2e::text_now(browser, "[data-testid=whoami]")
        .await
        .is_some_and(|name| name == "user1")
}

/// Signs out (the header's button) and waits for the server's confirmation.
async fn sign_out(browser: &fantoccini::Client) {
    let before = answers(browser, "/api/auth/logout").await.len();
    click(browser, "[data-testid=sign-out]").await;
    eventually(
        Duration::from_secs(10),
        "the sign-out confirmed",
        || async { answers(browser, "/api/auth/logout").await.get(before) == Some(&204) },
    )
    .await;
}

#[tokio::test]
async fn a_passkey_added_on_the_account_screen_signs_in_through_autofill_and_the_button_and_once_deleted_no_more(
) {
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        ..ServerOptions::default()
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&server.localhost_url("/login"))
        .await
        .expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    let authenticator = VirtualAuthenticator::add(&browser).await;

    // Add it (the sign-in is recent: no step-up needed).
    browser
        .goto(&server.localhost_url("/account"))
        .await
        .expect("open");
    text_of(&browser, "[data-testid=no-passkeys]").await;
    fill(&browser, "[data-testid=passkey-name]", "Virtual key").await;
    click(&browser, "[data-testid=add-passkey-submit]").await;
    eventually(Duration::from_secs(10), "the passkey is listed", || async {
        exists(&browser, "[data-testid=passkey]").await
    })
    .await;
    assert_eq!(
        text_of(&browser, "[data-testid=passkey-label]").await,
        "Virtual key"
    );
    let status = text_of(&browser, "[data-testid=passkey-status]").await;
    assert!(status.contains("added"), "{status}");
    let held = authenticator.credentials(&browser).await;
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[0]["rpId"], "localhost");
    assert_eq!(
        held[0]["isResidentCredential"], true,
        "a discoverable credential"
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    let violations = a11y::axe(&browser).await;
    assert!(
        violations.is_empty(),
        "axe on /account:\n{}",
        a11y::report(&violations)
    );

    // Signed out, the sign-in page offers the passkey in the username field's autofill; the
    // virtual authenticator picks it at once, as a person would from the suggestions.
    sign_out(&browser).await;
    eventually(
        Duration::from_secs(10),
        "signed in through autofill",
        || async { signed_in(&browser).await },
    )
    .await;
    assert_eq!(answers(&browser, "/api/auth/passkey").await, [200]);
    assert_eq!(
        tokenpair_e2e::path(&browser).await,
        "/account",
        "back where the person was"
    );

    // The button: with the autofill out of the way (no user verification: it fails quietly),
    // then the person verifies.
    authenticator.set_user_verified(&browser, false).await;
    sign_out(&browser).await;
    text_of(&browser, "[data-testid=passkey-sign-in]").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!signed_in(&browser).await);
    authenticator.set_user_verified(&browser, true).await;
    click(&browser, "[data-testid=passkey-sign-in]").await;
    eventually(
        Duration::from_secs(10),
        "signed in with the button",
        || async { signed_in(&browser).await },
    )
    .await;
    let held = authenticator.credentials(&browser).await;
    assert!(held[0]["signCount"].as_u64().unwrap_or(0) >= 3, "{held:?}");

    // Deleted (the passkey sign-in was just now: no step-up), it signs nobody in.
    browser
        .goto(&server.localhost_url("/account"))
        .await
        .expect("open");
    click(&browser, "[data-testid=delete-passkey]").await;
    text_of(&browser, "[data-testid=no-passkeys]").await;
    sign_out(&browser).await;
    let error = text_of(&browser, "[data-testid=form-error]").await;
    assert!(!signed_in(&browser).await);
    assert!(!error.is_empty());
    assert_eq!(
        answers(&browser, "/api/auth/passkey").await.last(),
        Some(&400),
        "the server no longer knows it"
    );
    authenticator.remove(&browser).await;
}

#[tokio::test]
async fn a_passkey_confirms_it_is_you_in_the_step_up_dialog() {
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        extra_args: vec!["--reauth-max-age".into(), "2s".into()],
        ..ServerOptions::default()
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser
        .goto(&server.localhost_url("/login"))
        .await
        .expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    let authenticator = VirtualAuthenticator::add(&browser).await;
    browser
        .goto(&server.localhost_url("/account"))
        .await
        .expect("open");
    click(&browser, "[data-testid=add-passkey-submit]").await;
    text_of(&browser, "[data-testid=passkey]").await;

    // Later: deleting it is a dangerous action; the dialog takes the passkey itself.
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    click(&browser, "[data-testid=delete-passkey]").await;
    eventually(Duration::from_secs(10), "the dialog asks", || async {
        text_of(&browser, "[data-testid=reauth-text]")
            .await
            .contains("delete a passkey")
    })
    .await;
    click(&browser, "[data-testid=reauth-passkey]").await;
    text_of(&browser, "[data-testid=no-passkeys]").await;
    assert_eq!(answers(&browser, "/api/auth/reauthenticate").await, [200]);
    authenticator.remove(&browser).await;
}
