//! User journeys in real Chromium against the real release server serving the real SPA.
//! Each test starts its own server (fresh SQLite file, 3 s access tokens) and browser.

use std::time::Duration;

use tokenpair_e2e::{eventually, path, sign_in, text_of, Driver, Server, ServerOptions};

/// JavaScript that gathers everything script-readable storage holds.
const READ_ALL_STORAGE: &str = r#"
    const dump = s => Object.keys(s).map(k => k + '=' + s.getItem(k)).join(';');
    return dump(localStorage) + '|' + dump(sessionStorage) + '|' + document.cookie;
"#;

#[tokio::test]
async fn signing_in_through_the_form_shows_the_dashboard_and_keeps_tokens_out_of_script_reach() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;

    browser.goto(&server.url("/")).await.expect("open the app");
    // Signed out: the guard sends us to the login page, remembering where we wanted to go.
    eventually(Duration::from_secs(10), "redirect to /login", || async {
        path(&browser).await == "/login"
    })
    .await;
    sign_in(&browser, "user1", "password1").await;

    assert_eq!(
        text_of(&browser, "[data-testid=me-username]").await,
        "user1"
    );
    assert_eq!(path(&browser).await, "/");

    // The access token lives in memory only: nothing in web storage or document.cookie.
    let storage = browser
        .execute(READ_ALL_STORAGE, vec![])
        .await
        .expect("run script");
    let storage = storage.as_str().unwrap_or_default().to_owned();
    assert_eq!(
        storage, "||",
        "script-readable storage must be empty, found {storage:?}"
    );

    // The refresh cookie exists and is HttpOnly. WebDriver lists the cookies of the current
    // document's path, so look from a page under the cookie's Path=/api/auth.
    browser
        .goto(&server.url("/api/auth/refresh"))
        .await
        .expect("open a page under /api/auth");
    let cookies = browser.get_all_cookies().await.expect("cookies");
    let refresh = cookies
        .iter()
        .find(|c| c.name() == "__Secure-refresh_token")
        .expect("a refresh_token cookie");
    assert_eq!(
        refresh.http_only(),
        Some(true),
        "the refresh cookie must be HttpOnly"
    );
    assert_eq!(refresh.path(), Some("/api/auth"));
    assert!(refresh.value().len() >= 43, "a 256-bit token");

    browser.close().await.expect("close browser");
}
