//! Screens people understand (issue 14), in real Chromium against the real release server:
//! the revoke confirmation (focus in, trapped, returned; result announced), a title and a
//! focused heading per view, device names, forms that explain themselves, the token inspector
//! on a 320 px phone, and the first paint (static shell, favicon, a quiet console).

use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::Locator;
use tokenpair_e2e::a11y;
use tokenpair_e2e::{
    attr_of, click, eventually, exists, fill, focused, focused_text, http_get, path, press,
    press_together, sign_in, text_now, text_of, title, Browser, Driver, Fault, Proxy, Server,
    ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";
const LOGIN_FORM: &str = "#username";
const STATUS: &str = "[data-testid=sessions-status]";
/// What Chromium's default headless user agent is called on the sessions page.
const HEADLESS: &str = "Headless Chrome on Linux";
/// A desktop Chrome on Windows, for a second, different device.
const WINDOWS_CHROME: &str = "--user-agent=Mozilla/5.0 (Windows NT 10.0; Win64; x64) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn signed_in(browser: &Browser, origin: impl Fn(&str) -> String) {
    browser.goto(&origin("/login")).await.expect("open /login");
    sign_in(browser, "user1", "password1").await;
    assert_eq!(text_of(browser, SIGNED_IN).await, "user1");
}

async fn session_rows(browser: &Browser) -> usize {
    browser
        .find_all(Locator::Css("[data-testid=session]"))
        .await
        .map(|rows| rows.len())
        .unwrap_or(0)
}

async fn dialog_open(browser: &Browser) -> bool {
    exists(browser, "dialog[open]").await
}

/// Waits until the focus is on the view's `<h1>` reading `heading`, and the title follows.
async fn lands_on(browser: &Browser, heading: &str) {
    eventually(
        Duration::from_secs(10),
        &format!("focus on the h1 \"{heading}\""),
        || async { focused(browser).await == "h1" && focused_text(browser).await == heading },
    )
    .await;
    assert_eq!(title(browser).await, format!("{heading} · tokenpair"));
}

// ------------------------------------------------------------------- (a) the confirmation

#[tokio::test]
async fn the_revoke_confirmation_keeps_focus_inside_returns_it_on_cancel_and_announces_the_result()
{
    let server = Server::start(ServerOptions::default()).await;
    let proxy = Proxy::start(server.port()).await;
    let driver = Driver::start().await;
    let other = driver.browser().await;
    signed_in(&other, |p| proxy.url(p)).await;
    let browser = driver.browser().await;
    signed_in(&browser, |p| proxy.url(p)).await;
    click(&browser, "nav a[href='/sessions']").await;
    eventually(Duration::from_secs(10), "two sessions", || async {
        session_rows(&browser).await == 2
    })
    .await;

    // Open it from the keyboard: focus the revoke button, press Enter.
    browser
        .execute(
            "document.querySelector('[data-testid=revoke]').focus()",
            vec![],
        )
        .await
        .expect("focus");
    press(&browser, Key::Enter).await;
    eventually(Duration::from_secs(5), "the dialog opens", || async {
        dialog_open(&browser).await
    })
    .await;
    assert!(
        focused(&browser).await.ends_with("+dialog"),
        "focus inside the dialog, not {}",
        focused(&browser).await
    );
    assert_eq!(
        text_of(&browser, "dialog[open] #confirm-title").await,
        format!("Sign out {HEADLESS}?")
    );
    // Tab and Shift+Tab never leave it.
    for _ in 0..5 {
        press(&browser, Key::Tab).await;
        let at = focused(&browser).await;
        assert!(
            at.ends_with("+dialog"),
            "Tab left the dialog: focus on {at}"
        );
    }
    press_together(&browser, &[Key::Shift, Key::Tab]).await;
    let at = focused(&browser).await;
    assert!(at.ends_with("+dialog"), "Shift+Tab left the dialog: {at}");

    // Escape: closed, nothing revoked, focus back on the button that opened it.
    press(&browser, Key::Escape).await;
    eventually(Duration::from_secs(5), "the dialog closes", || async {
        !dialog_open(&browser).await
    })
    .await;
    assert_eq!(focused(&browser).await, "button[revoke]");
    assert_eq!(session_rows(&browser).await, 2);

    // Cancel: the same.
    press(&browser, Key::Enter).await;
    eventually(Duration::from_secs(5), "the dialog opens again", || async {
        dialog_open(&browser).await
    })
    .await;
    click(&browser, "[data-testid=confirm-cancel]").await;
    eventually(Duration::from_secs(5), "the dialog closes", || async {
        !dialog_open(&browser).await
    })
    .await;
    assert_eq!(focused(&browser).await, "button[revoke]");
    assert_eq!(session_rows(&browser).await, 2);
    let deletes = || proxy.log().iter().filter(|e| e.method == "DELETE").count();
    assert_eq!(deletes(), 0, "nothing was revoked");

    // Confirm (the server is slow): busy while it works, then the row goes, the result is
    // announced, and the focus is on it (not on the next row's button).
    proxy.set("DELETE", "/api/sessions/", Fault::Hold);
    press(&browser, Key::Enter).await;
    eventually(Duration::from_secs(5), "the dialog opens", || async {
        dialog_open(&browser).await
    })
    .await;
    click(&browser, "[data-testid=confirm-ok]").await;
    eventually(Duration::from_secs(5), "the busy state", || async {
        text_now(&browser, "[data-testid=confirm-ok]")
            .await
            .as_deref()
            == Some("Signing out…")
    })
    .await;
    assert_eq!(
        attr_of(&browser, "[data-testid=confirm-ok]", "disabled")
            .await
            .as_deref(),
        Some("true")
    );
    // The server answers only now: the busy state held for as long as it took.
    proxy.clear("DELETE", "/api/sessions/");
    eventually(Duration::from_secs(10), "one session left", || async {
        session_rows(&browser).await == 1
    })
    .await;
    assert!(!dialog_open(&browser).await);
    assert_eq!(
        text_of(&browser, STATUS).await,
        format!("Signed out {HEADLESS}.")
    );
    assert_eq!(
        attr_of(&browser, STATUS, "role").await.as_deref(),
        Some("status")
    );
    assert_eq!(focused(&browser).await, "p[sessions-status]");
    assert_eq!(deletes(), 1, "exactly one session revoked");
}

// ------------------------------------------------------------------ (b) titles and focus

#[tokio::test]
async fn each_view_has_its_title_and_focus_lands_on_its_heading_after_navigation_sign_in_and_sign_out(
) {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    text_of(&browser, LOGIN_FORM).await;
    assert_eq!(title(&browser).await, "Sign in · tokenpair");

    // A link click (client-side navigation).
    click(&browser, "a[href='/register']").await;
    lands_on(&browser, "Create an account").await;
    click(&browser, "a[href='/login']").await;
    lands_on(&browser, "Sign in").await;

    // Sign-in.
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    lands_on(&browser, "Dashboard").await;

    // Each nav link.
    let mut titles = Vec::new();
    for (href, heading) in [
        ("/sessions", "Sessions"),
        ("/token", "Token inspector"),
        ("/", "Dashboard"),
    ] {
        click(&browser, &format!("nav a[href='{href}']")).await;
        lands_on(&browser, heading).await;
        assert_eq!(path(&browser).await, href);
        assert_eq!(
            attr_of(&browser, &format!("nav a[href='{href}']"), "aria-current")
                .await
                .as_deref(),
            Some("page")
        );
        titles.push(title(&browser).await);
    }
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 3, "one title per view: {titles:?}");

    // The skip link: the first Tab stop, and it moves the focus to <main> (no navigation).
    browser
        .execute(
            "document.activeElement.blur(); window.scrollTo(0, 0);",
            vec![],
        )
        .await
        .expect("blur");
    browser
        .execute(
            "document.body.tabIndex = -1; document.body.focus(); document.body.removeAttribute('tabindex');",
            vec![],
        )
        .await
        .expect("focus the start of the page");
    press(&browser, Key::Tab).await;
    assert_eq!(focused_text(&browser).await, "Skip to content");
    press(&browser, Key::Enter).await;
    eventually(Duration::from_secs(2), "focus on main", || async {
        focused(&browser).await == "main#main"
    })
    .await;
    assert_eq!(path(&browser).await, "/");
    // The next Tab is inside the view, not in the header.
    press(&browser, Key::Tab).await;
    let in_main = browser
        .execute(
            "return document.querySelector('main').contains(document.activeElement)",
            vec![],
        )
        .await
        .expect("where");
    assert_eq!(
        in_main,
        serde_json::json!(true),
        "Tab after the skip link: {}",
        focused(&browser).await
    );

    // Sign-out.
    click(&browser, "[data-testid=sign-out]").await;
    eventually(Duration::from_secs(10), "the login page", || async {
        exists(&browser, LOGIN_FORM).await
    })
    .await;
    lands_on(&browser, "Sign in").await;

    // The 404 view: a heading, a title, a way home.
    browser
        .goto(&server.url("/no/such/page"))
        .await
        .expect("open");
    text_of(&browser, "[data-testid=not-found]").await;
    assert_eq!(text_of(&browser, "h1").await, "Page not found");
    assert_eq!(title(&browser).await, "Page not found · tokenpair");
    let home = browser
        .find(Locator::Css("[data-testid=not-found] a[href='/']"))
        .await
        .expect("a link home");
    assert!(!home.text().await.expect("text").is_empty());
    home.click().await.expect("click home");
    eventually(
        Duration::from_secs(10),
        "home (the sign-in page)",
        || async { exists(&browser, LOGIN_FORM).await },
    )
    .await;
}

#[tokio::test]
async fn a_token_refresh_leaves_the_view_alone_its_elements_state_and_focus_stay() {
    // 3-second access tokens: the client refreshes about every 2 s.
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    signed_in(&browser, |p| server.url(p)).await;
    click(&browser, "nav a[href='/sessions']").await;
    text_of(&browser, "[data-testid=session]").await;
    let refreshes = || server.log().matches("refreshed").count();
    let before = refreshes();
    // Mark the heading node and put the focus on a button of the view.
    browser
        .execute(
            "document.querySelector('h1').dataset.mark = 'same';
             document.querySelector('[data-testid=sign-out-everywhere]').focus();",
            vec![],
        )
        .await
        .expect("mark");
    eventually(Duration::from_secs(10), "two refreshes", || async {
        refreshes() >= before + 2
    })
    .await;
    assert_eq!(
        attr_of(&browser, "h1", "data-mark").await.as_deref(),
        Some("same"),
        "the view was rebuilt by a refresh"
    );
    assert_eq!(focused(&browser).await, "button[sign-out-everywhere]");
}

// ---------------------------------------------------------------------- (c) device names

#[tokio::test]
async fn sessions_show_device_names_this_device_first_and_marked_and_name_each_revoke_button() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    // Signed in first, so without sorting it would be listed first.
    let windows = driver.browser_with_args(&[WINDOWS_CHROME]).await;
    signed_in(&windows, |p| server.url(p)).await;
    let other = driver.browser().await;
    signed_in(&other, |p| server.url(p)).await;
    let browser = driver.browser().await;
    signed_in(&browser, |p| server.url(p)).await;
    click(&browser, "nav a[href='/sessions']").await;
    eventually(Duration::from_secs(10), "three sessions", || async {
        session_rows(&browser).await == 3
    })
    .await;

    let rows = browser
        .find_all(Locator::Css("[data-testid=session]"))
        .await
        .expect("rows");
    let mut devices = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let device = row
            .find(Locator::Css("[data-testid=device]"))
            .await
            .expect("a device name")
            .text()
            .await
            .expect("text");
        let current = row.attr("data-current").await.expect("attr");
        let marked = row.find(Locator::Css(".badge")).await.ok();
        let revoke = row.find(Locator::Css("[data-testid=revoke]")).await.ok();
        if i == 0 {
            assert_eq!(current.as_deref(), Some("true"), "this device first");
            let badge = marked.expect("this device is marked");
            assert_eq!(badge.text().await.expect("text"), "this device");
            assert!(revoke.is_none(), "no revoke button for this device");
        } else {
            assert_eq!(current.as_deref(), Some("false"));
            assert!(marked.is_none());
            let revoke = revoke.expect("a revoke button");
            assert_eq!(
                revoke.text().await.expect("text"),
                format!("Sign out {device}"),
                "the button names its device"
            );
        }
        // Times for people: relative, with the exact local time on hover.
        for time in row.find_all(Locator::Css("time")).await.expect("times") {
            let shown = time.text().await.expect("text");
            let exact = time.attr("title").await.expect("title").unwrap_or_default();
            let machine = time
                .attr("datetime")
                .await
                .expect("datetime")
                .unwrap_or_default();
            assert!(!shown.is_empty() && !shown.contains('T'), "{shown:?}");
            assert!(!exact.is_empty() && exact != machine, "{exact:?}");
        }
        devices.push(device);
    }
    assert_eq!(devices[0], HEADLESS);
    let mut others = devices[1..].to_vec();
    others.sort();
    assert_eq!(others, ["Chrome on Windows", HEADLESS]);
}

// ------------------------------------------------------------------------------ (d) forms

#[tokio::test]
async fn a_bad_username_is_explained_under_its_field_and_nothing_is_sent() {
    let server = Server::start(ServerOptions::default()).await;
    let proxy = Proxy::start(server.port()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&proxy.url("/register")).await.expect("open");
    text_of(&browser, LOGIN_FORM).await;

    fill(&browser, "#username", "ab").await;
    fill(&browser, "#password", "a long enough password").await;
    click(&browser, "[data-testid=submit]").await;
    let message = text_of(&browser, "[data-testid=username-error]").await;
    assert!(message.contains("3 to 32 characters"), "{message}");
    assert_eq!(
        attr_of(&browser, "#username", "aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );
    let described = attr_of(&browser, "#username", "aria-describedby")
        .await
        .unwrap_or_default();
    assert!(
        described.split(' ').any(|id| id == "username-error"),
        "{described}"
    );
    // The message sits right under its own field (between it and the password label).
    let order = browser
        .execute(
            "const u = document.querySelector('#username'), e = document.querySelector('#username-error'),
                   p = document.querySelector('label[for=password]');
             return !!(u.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING)
                 && !!(e.compareDocumentPosition(p) & Node.DOCUMENT_POSITION_FOLLOWING);",
            vec![],
        )
        .await
        .expect("order");
    assert_eq!(order, serde_json::json!(true));
    assert_eq!(focused(&browser).await, "input#username");
    assert!(!exists(&browser, "[data-testid=password-error]").await);
    assert_eq!(
        attr_of(&browser, "#password", "aria-invalid")
            .await
            .as_deref(),
        None
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        proxy.count("POST", "/api/auth/register"),
        0,
        "no request for a form the browser knows is wrong"
    );

    // Fixed: the message goes, the account is made.
    fill(&browser, "#username", "abc_screens").await;
    click(&browser, "[data-testid=submit]").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "abc_screens");
    assert_eq!(proxy.count("POST", "/api/auth/register"), 1);
}

#[tokio::test]
async fn show_password_toggles_the_field_and_a_wrong_password_is_cleared() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    text_of(&browser, LOGIN_FORM).await;
    let kind = || async { attr_of(&browser, "#password", "type").await };

    assert_eq!(kind().await.as_deref(), Some("password"));
    assert_eq!(
        attr_of(&browser, "[data-testid=show-password]", "aria-pressed")
            .await
            .as_deref(),
        Some("false")
    );
    click(&browser, "[data-testid=show-password]").await;
    assert_eq!(kind().await.as_deref(), Some("text"));
    assert_eq!(
        attr_of(&browser, "[data-testid=show-password]", "aria-pressed")
            .await
            .as_deref(),
        Some("true")
    );
    click(&browser, "[data-testid=show-password]").await;
    assert_eq!(kind().await.as_deref(), Some("password"));

    fill(&browser, "#username", "user1").await;
    fill(&browser, "#password", "not-the-password").await;
    click(&browser, "[data-testid=submit]").await;
    assert_eq!(
        text_of(&browser, "[data-testid=form-error]").await,
        "Wrong username or password."
    );
    let value = browser
        .execute("return document.querySelector('#password').value", vec![])
        .await
        .expect("value");
    assert_eq!(value, serde_json::json!(""), "the wrong password is gone");
    assert_eq!(focused(&browser).await, "input#password");
}

#[tokio::test]
async fn after_throttling_the_wait_counts_down_and_the_message_goes_away_by_itself() {
    let server = Server::start(ServerOptions::default()).await;
    let proxy = Proxy::start(server.port()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&proxy.url("/login")).await.expect("open");
    text_of(&browser, LOGIN_FORM).await;

    proxy.set("POST", "/api/auth/login", Fault::too_many_attempts(4));
    sign_in(&browser, "user1", "password1").await;
    let seconds = || async {
        text_now(&browser, "[data-testid=form-error]")
            .await
            .and_then(|m| {
                let rest = m.split("Try again in ").nth(1)?.to_owned();
                rest.split(' ').next()?.parse::<u32>().ok()
            })
    };
    let started = Instant::now();
    eventually(Duration::from_secs(5), "the countdown", || async {
        seconds().await.is_some()
    })
    .await;
    let first = seconds().await.expect("a number");
    assert!(
        (3..=4).contains(&first),
        "starts at the Retry-After: {first}"
    );
    assert_eq!(
        attr_of(&browser, "[data-testid=submit]", "disabled")
            .await
            .as_deref(),
        Some("true"),
        "no new attempt while waiting"
    );
    let mut seen = vec![first];
    while let Some(n) = seconds().await {
        if seen.last() != Some(&n) {
            seen.push(n);
        }
        assert!(started.elapsed() < Duration::from_secs(8), "{seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen.len() >= 3, "counted down: {seen:?}");
    assert!(seen.windows(2).all(|w| w[1] < w[0]), "{seen:?}");
    assert!(!exists(&browser, "[data-testid=form-error]").await);
    assert_eq!(
        attr_of(&browser, "[data-testid=submit]", "disabled")
            .await
            .as_deref(),
        None,
        "the form can be sent again"
    );
    proxy.clear("POST", "/api/auth/login");
    fill(&browser, "#password", "password1").await;
    click(&browser, "[data-testid=submit]").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
}

// --------------------------------------------------------------------- (e) 320 px screens

#[tokio::test]
async fn at_320_px_nothing_scrolls_sideways_and_the_inspector_shows_readable_dates() {
    let server = Server::start(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let other = driver.browser_with_args(&[WINDOWS_CHROME]).await;
    signed_in(&other, |p| server.url(p)).await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    a11y::set_viewport(&browser, 320, 640, true).await;
    text_of(&browser, LOGIN_FORM).await;
    assert!(!a11y::scrolls_horizontally(&browser).await, "/login");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    for (href, ready) in [
        ("/", SIGNED_IN),
        ("/sessions", "[data-testid=revoke]"),
        ("/token", "[data-testid=claims]"),
    ] {
        click(&browser, &format!("nav a[href='{href}']")).await;
        text_of(&browser, ready).await;
        assert!(!a11y::scrolls_horizontally(&browser).await, "{href}");
    }
    click(&browser, "[data-testid=reveal-signature]").await;
    assert!(
        !a11y::scrolls_horizontally(&browser).await,
        "/token, signature revealed"
    );

    let year = browser
        .execute("return String(new Date().getFullYear())", vec![])
        .await
        .expect("year");
    let year = year.as_str().unwrap_or_default().to_owned();
    for claim in ["iat", "exp"] {
        let readable = text_of(&browser, &format!("[data-testid=claim-{claim}-local]")).await;
        assert!(readable.contains(&year), "{claim}: {readable:?}");
        // Next to the Unix seconds, in the same cell.
        let same_cell = browser
            .execute(
                "const r = document.querySelector(arguments[0]);
                 return r.closest('td').querySelector('code.value').textContent;",
                vec![format!("[data-testid=claim-{claim}-local]").into()],
            )
            .await
            .expect("cell");
        let secs = same_cell.as_str().unwrap_or_default();
        assert!(
            secs.len() >= 10 && secs.chars().all(|c| c.is_ascii_digit()),
            "{claim}: {secs:?}"
        );
        // Readable: not broken inside a word ("Cla/im") — one line per value on a phone.
        let lines = browser
            .execute(
                "const r = document.querySelector(arguments[0]).getClientRects(); return r.length;",
                vec![format!("[data-testid=claim-{claim}-local]").into()],
            )
            .await
            .expect("rects");
        assert!(lines.as_u64().unwrap_or(9) <= 2, "{claim}: {lines} lines");
    }
}

// ------------------------------------------------------------------------ (f) first paint

#[tokio::test]
async fn the_first_paint_is_the_static_shell_the_favicon_exists_and_a_signed_out_visit_logs_no_error(
) {
    let server = Server::start(ServerOptions::default()).await;
    // What the browser paints before any script runs.
    let page = http_get(&server.url("/login")).await;
    assert_eq!(page.status, 200);
    // trunk minifies the HTML (unquoted attributes): compare without quotes.
    let html = page.body.replace('"', "");
    for part in [
        "<header class=topbar>",
        "class=brand",
        "<main id=main",
        "Checking your session",
        "<footer>",
        "class=skip-link",
        "rel=icon",
    ] {
        assert!(html.contains(part), "index.html lacks {part}:\n{html}");
    }
    let icon = http_get(&server.url("/favicon.svg")).await;
    assert_eq!(icon.status, 200);
    assert!(
        icon.header("content-type")
            .is_some_and(|t| t.starts_with("image/svg+xml")),
        "{:?}",
        icon.headers
    );
    assert!(icon.body.contains("<svg"), "{}", icon.body);

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    text_of(&browser, LOGIN_FORM).await;
    // The app's frame is the shell's: the header is where the shell had it.
    assert!(!exists(&browser, "#shell").await, "the shell made way");
    assert_eq!(text_of(&browser, "header.topbar .brand").await, "tokenpair");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let log = a11y::browser_log(&browser).await;
    // The boot-time refresh asks with `?optional=1`: without a cookie the server answers 204
    // ("no session" is a normal outcome), so a signed-out visit logs no error at all.
    let errors: Vec<_> = log.iter().filter(|e| e.level == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

#[tokio::test]
async fn the_inspector_names_the_ed25519_key_that_signed_the_token_and_links_the_jwks() {
    let server = Server::start_ed25519(ServerOptions::default()).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    signed_in(&browser, |p| server.url(p)).await;
    click(&browser, "nav a[href='/token']").await;
    lands_on(&browser, "Token inspector").await;
    assert_eq!(text_of(&browser, "[data-testid=jwt-alg]").await, "EdDSA");
    let kid = text_of(&browser, "[data-testid=jwt-kid]").await;
    assert!(kid.starts_with("ed25519-"), "{kid}");
    assert_eq!(
        attr_of(&browser, "[data-testid=jwks-link]", "href")
            .await
            .as_deref(),
        Some("/.well-known/jwks.json")
    );
    // The key it names is the first one the JWKS publishes, as the browser fetches it.
    let jwks = browser
        .execute_async(
            "const done = arguments[0]; fetch('/.well-known/jwks.json').then(r => r.json()).then(j => done(j.keys.map(k => k.kid)));",
            vec![],
        )
        .await
        .expect("fetch the JWKS");
    assert_eq!(jwks[0].as_str(), Some(kid.as_str()), "{jwks}");
}
