//! The idle-timeout warning (issue 14): with a 65 s idle timeout and 5-minute access tokens,
//! the session would idle out long before the next proactive refresh, so every tab shows
//! "You will be signed out in … s" 60 s before the deadline; "Stay signed in" in one tab
//! refreshes and closes the warning in both.

use std::time::Duration;

use tokenpair_e2e::{
    click, eventually, open_window, sign_in, switch_to, text_now, text_of, Driver, Server,
    ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";
const WARNING: &str = "dialog[open][data-testid=session-ending]";

#[tokio::test]
async fn an_idle_session_warns_in_every_tab_and_staying_signed_in_in_one_closes_both() {
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        refresh_token_expiry: "1h",
        extra_args: vec!["--refresh-token-idle-timeout".into(), "65s".into()],
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    let first = browser.window().await.expect("window");
    let second = open_window(&browser, &server.url("/")).await;
    text_of(&browser, SIGNED_IN).await;

    // 65 s idle − 60 s warning: both tabs warn after about 5 s.
    for tab in [&second, &first] {
        switch_to(&browser, tab).await;
        eventually(Duration::from_secs(15), "the warning", || async {
            text_now(&browser, WARNING).await.is_some()
        })
        .await;
        let text = text_of(&browser, "[data-testid=session-ending-text]").await;
        assert!(text.starts_with("You will be signed out in "), "{text}");
        let focused = browser
            .execute("return document.activeElement.dataset.testid", vec![])
            .await
            .expect("focus");
        assert_eq!(
            focused,
            serde_json::json!("stay-signed-in"),
            "focus on the safe choice"
        );
    }

    click(&browser, "[data-testid=stay-signed-in]").await;
    eventually(
        Duration::from_secs(5),
        "the warning closes here",
        || async { text_now(&browser, WARNING).await.is_none() },
    )
    .await;
    switch_to(&browser, &second).await;
    eventually(Duration::from_secs(5), "…and in the other tab", || async {
        text_now(&browser, WARNING).await.is_none()
    })
    .await;
    assert!(
        text_now(&browser, SIGNED_IN).await.is_some(),
        "still signed in"
    );
}
