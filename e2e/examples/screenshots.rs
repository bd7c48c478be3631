//! `make screenshots`: re-takes the images of the README and docs/how-it-works.md with the e2e harness — the three
//! protected views (light, 1100 px wide, with a second device on /sessions), the revoke
//! confirmation, and the sign-in page, sessions and token inspector on a 390 px phone in dark
//! mode. They go to `$TOKENPAIR_SCREENSHOTS` (default `docs/screenshots`).
//!
//! A report, not a test: it asserts nothing about the pictures. It needs the release server
//! and SPA (`make spa server`).

use std::path::PathBuf;
use std::time::Duration;

use tokenpair_e2e::a11y::{self, Scheme};
use tokenpair_e2e::{click, sign_in, text_of, Driver, Server, ServerOptions};

const SIGNED_IN: &str = "[data-testid=me-username]";

#[tokio::main]
async fn main() {
    // Tokens that outlive the run: no refresh banner in a picture.
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        ..ServerOptions::default()
    })
    .await;
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

    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    browser.set_window_size(1100, 860).await.expect("size");
    a11y::set_color_scheme(&browser, Scheme::Light).await;
    let dir = std::env::var_os("TOKENPAIR_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("docs/screenshots"));
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    let save = |name: &'static str| {
        let (browser, dir) = (&browser, &dir);
        async move {
            // Settled: no focus ring from the heading's focus, no half-drawn frame.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let png = browser.screenshot().await.expect("screenshot");
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
