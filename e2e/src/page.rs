//! Page helpers: find, read, click and fill elements, wait for conditions, windows.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

/// Waits for an element and returns its text.
pub async fn text_of(browser: &Client, css: &str) -> String {
    let el = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"));
    el.text().await.unwrap_or_default()
}

/// Fills the login form and submits it.
pub async fn sign_in(browser: &Client, username: &str, password: &str) {
    let wait = browser.wait().at_most(Duration::from_secs(10));
    let user = wait
        .for_element(Locator::Css("#username"))
        .await
        .expect("the login form");
    user.send_keys(username).await.expect("type username");
    let pass = browser
        .find(Locator::Css("#password"))
        .await
        .expect("password field");
    pass.send_keys(password).await.expect("type password");
    browser
        .find(Locator::Css("[data-testid=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
}

/// The current path of the page.
pub async fn path(browser: &Client) -> String {
    browser
        .current_url()
        .await
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

/// Polls `f` until it returns true, or panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !f().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether an element matching `css` is in the page now.
pub async fn exists(browser: &Client, css: &str) -> bool {
    browser.find(Locator::Css(css)).await.is_ok()
}

/// Clicks the element matching `css` (waiting up to 10 s for it).
pub async fn click(browser: &Client, css: &str) {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Replaces an input's value the way typing does (an `input` event), whatever it held before.
pub async fn fill(browser: &Client, css: &str, value: &str) {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"));
    browser
        .execute(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![css.into(), value.into()],
        )
        .await
        .unwrap_or_else(|e| panic!("fill {css}: {e}"));
}

/// The text of the element matching `css` if it is in the page now.
pub async fn text_now(browser: &Client, css: &str) -> Option<String> {
    let el = browser.find(Locator::Css(css)).await.ok()?;
    el.text().await.ok()
}

/// Reloads the page (like F5) and waits for the new document to load.
pub async fn reload(browser: &Client) {
    browser.refresh().await.expect("reload");
}

/// Opens `url` in a new window of the same browser (same profile, same cookie jar: what a
/// second tab is to the app), switches to it and returns its handle. The previous window's
/// handle comes from `browser.window()` before the call.
pub async fn open_window(browser: &Client, url: &str) -> fantoccini::wd::WindowHandle {
    let handle = browser
        .new_window(false)
        .await
        .expect("a new window")
        .handle;
    browser
        .switch_to_window(handle.clone())
        .await
        .expect("switch to the new window");
    browser.goto(url).await.expect("open the url");
    handle
}

/// Makes `window` the one WebDriver commands act on.
pub async fn switch_to(browser: &Client, window: &fantoccini::wd::WindowHandle) {
    browser
        .switch_to_window(window.clone())
        .await
        .expect("switch window");
}

/// Checks `ok` every 100 ms for `period` and panics with `what` the first time it is false.
pub async fn always<F, Fut>(period: Duration, what: &str, mut ok: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + period;
    while Instant::now() < deadline {
        assert!(ok().await, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Presses and releases `key` (a real keyboard event, wherever the focus is).
pub async fn press(browser: &Client, key: fantoccini::key::Key) {
    press_together(browser, &[key]).await;
}

/// Presses `keys` in order and releases them in reverse (`[Key::Shift, Key::Tab]`: Shift+Tab).
pub async fn press_together(browser: &Client, keys: &[fantoccini::key::Key]) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys {
        actions = actions.then(KeyAction::Down {
            value: (*key).into(),
        });
    }
    for key in keys.iter().rev() {
        actions = actions.then(KeyAction::Up {
            value: (*key).into(),
        });
    }
    browser
        .perform_actions(actions)
        .await
        .unwrap_or_else(|e| panic!("press {keys:?}: {e}"));
}

/// Where the focus is: `document.activeElement` described as `tag#id[data-testid]`
/// (`h1`, `main#main`, `button[revoke]`…), with `+dialog` when it is inside an open dialog.
pub async fn focused(browser: &Client) -> String {
    script_string(
        browser,
        "const e = document.activeElement;
             if (!e) return 'none';
             let d = e.tagName.toLowerCase();
             if (e.id) d += '#' + e.id;
             if (e.dataset && e.dataset.testid) d += '[' + e.dataset.testid + ']';
             if (e.closest('dialog[open]')) d += '+dialog';
             return d;",
    )
    .await
}

/// The text of `document.activeElement` (trimmed).
pub async fn focused_text(browser: &Client) -> String {
    script_string(
        browser,
        "const e = document.activeElement; return e ? e.innerText.trim() : '';",
    )
    .await
}

/// Runs `script` in the page and returns the string it returns (empty if it returns none).
async fn script_string(browser: &Client, script: &str) -> String {
    browser
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("run {script:?}: {e}"))
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `document.title`.
pub async fn title(browser: &Client) -> String {
    browser.title().await.expect("document.title")
}

/// The value of attribute `name` of the element matching `css` (waiting up to 10 s for it).
pub async fn attr_of(browser: &Client, css: &str, name: &str) -> Option<String> {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .attr(name)
        .await
        .unwrap_or_else(|e| panic!("attribute {name} of {css}: {e}"))
}

/// The value of the HttpOnly refresh cookie, as a thief with the browser's profile would read
/// it: WebDriver lists the cookies of the current document's path, so this opens
/// `refresh_url` (under the cookie's `Path=/api/auth`) first.
pub async fn refresh_cookie_value(browser: &Client, refresh_url: &str) -> String {
    browser
        .goto(refresh_url)
        .await
        .expect("open a page under /api/auth");
    browser
        .get_all_cookies()
        .await
        .expect("cookies")
        .into_iter()
        .find(|c| c.name() == "__Secure-refresh_token")
        .expect("the refresh cookie")
        .value()
        .to_owned()
}
