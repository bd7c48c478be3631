//! Journeys through a faulty network (issue 10): real Chromium talks only to the
//! fault-injecting [`Proxy`], which forwards to the real release server. Each test starts its
//! own server (fresh SQLite file), proxy, chromedriver and browser.
//!
//! The SPA contract these journeys check:
//! * `?next=` is resolved against the page origin; anything that is not a same-origin path
//!   goes to `/`;
//! * a refresh that never answers is abandoned after the client's deadline (~10 s): the
//!   `unreachable` banner shows while the page still says it is restoring, and the client
//!   retries with backoff (cap ~30 s) until it gets through, without a reload;
//! * only the three 401 codes end the session: a 429 (with `Retry-After`) or 404 from the
//!   refresh endpoint keeps the user, and the banner names the status;
//! * a sign-out the server cannot confirm keeps retrying (`sign-out-pending`), survives a
//!   reload as "signed out", and "signed out everywhere" is only claimed after the 204;
//! * two tabs of one browser share each refresh (no more refreshes than one tab, plus the
//!   second tab's restore).

use std::time::{Duration, Instant};

use tokenpair_e2e::{
    always, answer_count, click, exists, open_window, path, reload, sign_in, switch_to, text_now,
    text_of, wait_for_fresh_answer, Browser, Driver, Fault, Proxy, Server, ServerOptions,
};

const SIGNED_IN: &str = "[data-testid=me-username]";
const LOGIN_FORM: &str = "#username";
const BANNER: &str = "[data-testid=unreachable]";
const RESTORING: &str = "[data-testid=restoring]";
const SIGN_OUT_PENDING: &str = "[data-testid=sign-out-pending]";
const NOTICE: &str = "[data-testid=notice]";
const REFRESH: &str = "/api/auth/refresh";
const LOGOUT: &str = "/api/auth/logout";

/// A server with `access_token_expiry`, the proxy in front of it, and chromedriver.
/// Fields drop in order: server, proxy, driver (browsers are locals, dropped before).
struct Rig {
    server: Server,
    proxy: Proxy,
    driver: Driver,
}

async fn rig(access_token_expiry: &'static str) -> Rig {
    let server = Server::start(ServerOptions {
        access_token_expiry,
        ..ServerOptions::default()
    })
    .await;
    let proxy = Proxy::start(server.port()).await;
    let driver = Driver::start().await;
    Rig {
        server,
        proxy,
        driver,
    }
}

impl Rig {
    /// A new browser signed in as user1 through the proxy, on the dashboard.
    async fn signed_in_browser(&self) -> Browser {
        let browser = self.driver.browser().await;
        browser
            .goto(&self.proxy.url("/login"))
            .await
            .expect("open /login");
        sign_in(&browser, "user1", "password1").await;
        assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
        browser
    }

    /// Polls `f` until it returns true; on timeout panics with `what` and the API traffic the
    /// proxy saw (what the browser sent and got), so a failing journey explains itself.
    async fn eventually<F, Fut>(&self, timeout: Duration, what: &str, mut f: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        while !f().await {
            assert!(
                Instant::now() < deadline,
                "timed out after {timeout:?} waiting for: {what}\nAPI traffic at the proxy:\n{}",
                self.traffic()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the proxy saw, for failure messages.
    fn traffic(&self) -> String {
        self.proxy
            .log()
            .iter()
            .filter(|e| e.path.starts_with("/api/"))
            .map(|e| {
                format!(
                    "{:>7.1}s {} {}{} → {} ({})",
                    e.at.as_secs_f64(),
                    e.method,
                    e.path,
                    e.query
                        .as_deref()
                        .map(|q| format!("?{q}"))
                        .unwrap_or_default(),
                    e.status.map_or("no answer".into(), |s| s.to_string()),
                    e.fault
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

async fn visible(browser: &Browser, css: &str) -> bool {
    match browser.find(fantoccini::Locator::Css(css)).await {
        Ok(el) => el.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

async fn text_lower(browser: &Browser, css: &str) -> String {
    text_now(browser, css)
        .await
        .unwrap_or_default()
        .to_lowercase()
}

/// Marks the current document, so a later [`same_document`] tells whether it was reloaded.
async fn mark_document(browser: &Browser) {
    browser
        .execute("window.__e2eMark = true;", vec![])
        .await
        .expect("mark the document");
}

async fn same_document(browser: &Browser) -> bool {
    browser
        .execute("return window.__e2eMark === true;", vec![])
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

// ------------------------------------------------------------------------------ return-to

#[tokio::test]
async fn a_next_parameter_hiding_a_tab_or_newline_never_leaves_the_origin_and_a_plain_path_is_honoured(
) {
    let rig = rig("1m").await;
    let browser = rig.signed_in_browser().await;
    let origin = rig.proxy.url("");

    for next in ["/%09/evil.example", "/%0A/evil.example"] {
        browser
            .goto(&rig.proxy.url(&format!("/login?next={next}")))
            .await
            .expect("open the login page");
        // Signed in: the login page sends the user on by itself, to `/`, never off-origin.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = browser.current_url().await.expect("the url");
            assert_eq!(
                url.origin().ascii_serialization(),
                origin,
                "next={next} took the browser to another origin: {url}"
            );
            if url.path() == "/" && exists(&browser, SIGNED_IN).await {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "next={next}: not on the dashboard at / after 10 s but on {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        always(
            Duration::from_secs(1),
            &format!("next={next}: stays on / of this origin"),
            || async {
                browser
                    .current_url()
                    .await
                    .is_ok_and(|u| u.origin().ascii_serialization() == origin && u.path() == "/")
            },
        )
        .await;
    }

    // A same-origin path is where a fresh sign-in goes.
    let fresh = rig.driver.browser().await;
    fresh
        .goto(&rig.proxy.url("/login?next=/sessions"))
        .await
        .expect("open the login page");
    sign_in(&fresh, "user1", "password1").await;
    rig.eventually(
        Duration::from_secs(10),
        "on /sessions after sign-in",
        || async {
            path(&fresh).await == "/sessions" && exists(&fresh, "[data-testid=session]").await
        },
    )
    .await;
}

// ---------------------------------------------------------------------------- hung refresh

#[tokio::test]
async fn a_refresh_that_never_answers_at_boot_shows_the_banner_within_the_deadline_and_recovers_without_a_reload(
) {
    let rig = rig("1m").await;
    let browser = rig.signed_in_browser().await;

    rig.proxy.set("POST", REFRESH, Fault::Hang);
    let before = rig.proxy.count("POST", REFRESH);
    reload(&browser).await;
    let reloaded = Instant::now();
    mark_document(&browser).await;

    // The client gives up on the held refresh after its deadline (~10 s) and says so,
    // while the page still waits for the session (neither dashboard nor login form).
    rig.eventually(
        Duration::from_secs(15),
        "the unreachable banner within 15 s of a reload whose refresh hangs",
        || async { visible(&browser, BANNER).await },
    )
    .await;
    println!("banner after {:?}", reloaded.elapsed());
    assert!(
        visible(&browser, RESTORING).await,
        "the restoring state shows under the banner"
    );
    assert!(!exists(&browser, SIGNED_IN).await);
    assert!(
        !exists(&browser, LOGIN_FORM).await,
        "not sent to the login page"
    );
    assert_ne!(path(&browser).await, "/login");
    assert!(
        rig.proxy.count("POST", REFRESH) > before,
        "the reload sent a refresh:\n{}",
        rig.traffic()
    );

    // The server answers again: the retry (backoff, cap ~30 s) gets the session back.
    rig.proxy.clear("POST", REFRESH);
    let cleared = Instant::now();
    rig.eventually(
        Duration::from_secs(40),
        "the dashboard within 40 s of the refresh answering again",
        || async { exists(&browser, SIGNED_IN).await },
    )
    .await;
    println!("dashboard {:?} after the fault cleared", cleared.elapsed());
    assert!(same_document(&browser).await, "recovered without a reload");
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    rig.eventually(Duration::from_secs(5), "the banner goes away", || async {
        !exists(&browser, BANNER).await
    })
    .await;
}

// ------------------------------------------------------------------------ refused refresh

/// Signed in with 3 s tokens, every refresh gets `fault`: the user stays, the banner names
/// `code`; once the fault clears the banner goes and the API answers again.
async fn a_refused_refresh_keeps_the_session(fault: Fault, code: &str) {
    let rig = rig("3s").await;
    let browser = rig.signed_in_browser().await;

    rig.proxy.set("POST", REFRESH, fault.clone());
    let before = rig.proxy.count("POST", REFRESH);
    let faulted = Instant::now();
    // The proactive refresh before the 3 s token expires is the first to be refused.
    rig.eventually(
        Duration::from_secs(10),
        &format!("the unreachable banner naming {code}"),
        || async {
            assert!(
                !exists(&browser, LOGIN_FORM).await,
                "a {code} from the refresh endpoint signed the user out:\n{}",
                rig.traffic()
            );
            visible(&browser, BANNER).await && text_lower(&browser, BANNER).await.contains(code)
        },
    )
    .await;
    println!(
        "banner: {:?}",
        text_now(&browser, BANNER).await.unwrap_or_default()
    );
    // Well past the access token's lifetime: still signed in, still here.
    always(
        Duration::from_secs(5),
        "still signed in while the refresh endpoint refuses",
        || async {
            text_now(&browser, "[data-testid=whoami]").await.as_deref() == Some("user1")
                && path(&browser).await != "/login"
                && !exists(&browser, LOGIN_FORM).await
        },
    )
    .await;
    let refused = rig.proxy.count("POST", REFRESH) - before;
    let elapsed = faulted.elapsed().as_secs_f64();
    println!(
        "{refused} refused refreshes in {elapsed:.1} s:\n{}",
        rig.traffic()
    );
    assert!(refused >= 1, "the client tried to refresh");
    if let Fault::Respond(canned) = &fault {
        if let Some((_, secs)) = canned
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("retry-after"))
        {
            let secs: f64 = secs.parse().expect("Retry-After seconds");
            assert!(
                refused as f64 <= elapsed / secs + 2.0,
                "Retry-After: {secs} honoured: {refused} refreshes in {elapsed:.1} s\n{}",
                rig.traffic()
            );
        }
    }

    rig.proxy.clear("POST", REFRESH);
    rig.eventually(
        Duration::from_secs(40),
        "the banner goes once the refresh answers again",
        || async { !exists(&browser, BANNER).await },
    )
    .await;
    let me_before = rig.proxy.count("GET", "/api/me");
    click(&browser, "[data-testid=call-api]").await;
    rig.eventually(
        Duration::from_secs(10),
        "GET /api/me answers 200",
        || async {
            let me = rig.proxy.exchanges("GET", "/api/me");
            me.len() > me_before && me.last().is_some_and(|e| e.status == Some(200))
        },
    )
    .await;
    rig.eventually(
        Duration::from_secs(5),
        "the dashboard shows the user",
        || async {
            exists(&browser, SIGNED_IN).await && !exists(&browser, "[data-testid=me-error]").await
        },
    )
    .await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    assert!(!exists(&browser, LOGIN_FORM).await);
}

#[tokio::test]
async fn a_429_with_retry_after_from_the_refresh_endpoint_keeps_the_session_names_429_and_recovers()
{
    a_refused_refresh_keeps_the_session(Fault::too_many_attempts(2), "429").await;
}

#[tokio::test]
async fn a_404_from_the_refresh_endpoint_during_a_deploy_keeps_the_session_names_404_and_recovers()
{
    let not_found = Fault::status(404)
        .header("content-type", "text/html")
        .body("<h1>404 Not Found</h1>");
    a_refused_refresh_keeps_the_session(not_found, "404").await;
}

// ------------------------------------------------------------------- sign-out in an outage

#[tokio::test]
async fn a_sign_out_the_server_cannot_confirm_stays_signed_out_across_a_reload_and_completes_when_it_is_back(
) {
    let rig = rig("1m").await;
    let browser = rig.signed_in_browser().await;

    rig.proxy.set("POST", LOGOUT, Fault::Reset);
    let clicked = rig.proxy.elapsed();
    click(&browser, "[data-testid=sign-out]").await;
    rig.eventually(
        Duration::from_secs(10),
        "the login view says the sign-out is pending",
        || async {
            exists(&browser, LOGIN_FORM).await && visible(&browser, SIGN_OUT_PENDING).await
        },
    )
    .await;
    assert!(rig.proxy.count("POST", LOGOUT) >= 1, "{}", rig.traffic());

    // A reload during the outage does not bring the session back.
    reload(&browser).await;
    rig.eventually(
        Duration::from_secs(10),
        "after the reload: login form, sign-out still pending",
        || async {
            exists(&browser, LOGIN_FORM).await && visible(&browser, SIGN_OUT_PENDING).await
        },
    )
    .await;
    always(
        Duration::from_secs(3),
        "the session is not restored",
        || async { !exists(&browser, SIGNED_IN).await },
    )
    .await;
    let restored = rig
        .proxy
        .exchanges("POST", REFRESH)
        .into_iter()
        .filter(|e| e.at > clicked && e.status == Some(200))
        .count();
    assert_eq!(
        restored,
        0,
        "no refresh succeeded after sign-out:\n{}",
        rig.traffic()
    );
    assert!(
        !rig.server.log().contains("signed out"),
        "the server could not have heard"
    );

    // The server is reachable again: the pending sign-out goes through, by itself.
    rig.proxy.clear("POST", LOGOUT);
    rig.eventually(
        Duration::from_secs(40),
        "the pending text goes and the notice says signed out",
        || async {
            !exists(&browser, SIGN_OUT_PENDING).await
                && text_lower(&browser, NOTICE).await.contains("signed out")
        },
    )
    .await;
    assert!(
        rig.proxy
            .exchanges("POST", LOGOUT)
            .iter()
            .any(|e| e.status == Some(204)),
        "the server answered 204:\n{}",
        rig.traffic()
    );
    assert!(
        rig.server.log().contains("signed out"),
        "the server ended the session:\n{}",
        rig.server.log()
    );
    reload(&browser).await;
    rig.eventually(Duration::from_secs(10), "the login form", || async {
        exists(&browser, LOGIN_FORM).await
    })
    .await;
    always(Duration::from_secs(2), "still signed out", || async {
        !exists(&browser, SIGNED_IN).await
    })
    .await;
}

#[tokio::test]
async fn sign_out_everywhere_during_an_outage_never_claims_success_before_the_servers_204() {
    let rig = rig("1m").await;
    let browser = rig.signed_in_browser().await;
    click(&browser, "nav a[href='/sessions']").await;
    text_of(&browser, "[data-testid=session]").await;

    rig.proxy.set(
        "POST",
        LOGOUT,
        Fault::api_error(503, "unavailable", "The server is restarting."),
    );
    click(&browser, "[data-testid=sign-out-everywhere]").await;
    click(&browser, "[data-testid=confirm-ok]").await;
    always(
        Duration::from_secs(6),
        "no notice claims \"everywhere\" while logout answers 503",
        || async { !text_lower(&browser, NOTICE).await.contains("everywhere") },
    )
    .await;
    let global = |e: &tokenpair_e2e::Exchange| e.query.as_deref() == Some("scope=global");
    assert!(
        rig.proxy.exchanges("POST", LOGOUT).iter().any(global),
        "the global sign-out was attempted:\n{}",
        rig.traffic()
    );

    rig.proxy.clear("POST", LOGOUT);
    // From now on, whenever a notice says "everywhere", the 204 has already been sent.
    rig.eventually(
        Duration::from_secs(40),
        "the server's 204 for the global sign-out",
        || async {
            let notice = text_lower(&browser, NOTICE).await;
            let confirmed = rig
                .proxy
                .exchanges("POST", LOGOUT)
                .iter()
                .any(|e| global(e) && e.status == Some(204));
            assert!(
                confirmed || !notice.contains("everywhere"),
                "\"{notice}\" before the server's 204:\n{}",
                rig.traffic()
            );
            confirmed
        },
    )
    .await;
    assert!(
        rig.server.log().contains("signed out everywhere"),
        "{}",
        rig.server.log()
    );
    rig.eventually(Duration::from_secs(10), "signed out here", || async {
        exists(&browser, LOGIN_FORM).await && !exists(&browser, SIGN_OUT_PENDING).await
    })
    .await;
}

// ---------------------------------------------------------------------------------- tabs

#[tokio::test]
async fn two_tabs_of_one_browser_send_no_more_refreshes_than_one_tab_plus_the_second_tabs_restore()
{
    const WINDOW: Duration = Duration::from_secs(15);
    let rig = rig("3s").await;
    let browser = rig.signed_in_browser().await;
    let first = browser.window().await.expect("the first window");

    // One tab alone, 3 s tokens: the baseline.
    let start = rig.proxy.count("POST", REFRESH);
    tokio::time::sleep(WINDOW).await;
    let one_tab = rig.proxy.count("POST", REFRESH) - start;

    // A second tab of the same browser (same cookie jar) for as long.
    let start = rig.proxy.count("POST", REFRESH);
    let opened = Instant::now();
    let second = open_window(&browser, &rig.proxy.url("/")).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    tokio::time::sleep(WINDOW.saturating_sub(opened.elapsed())).await;
    let two_tabs = rig.proxy.count("POST", REFRESH) - start;

    let lifetimes = WINDOW.as_secs() / 3;
    println!(
        "POST {REFRESH} per {WINDOW:?} (= {lifetimes} token lifetimes): one tab {one_tab}, \
         two tabs {two_tabs}"
    );
    assert!(
        one_tab >= 3,
        "one tab kept its 3 s token fresh:\n{}",
        rig.traffic()
    );
    // Two tabs share each refresh: one tab's count, plus the second tab's restore, plus one
    // for where the 15 s window cuts the refresh rhythm. (Each tab on its own would be ~2×.)
    assert!(
        two_tabs <= one_tab + 2,
        "two tabs sent {two_tabs} refreshes where one tab sent {one_tab}:\n{}",
        rig.traffic()
    );

    for window in [&first, &second] {
        switch_to(&browser, window).await;
        // This tab's own network log: its fresh request was answered 200, not the screen
        // left from an earlier answer.
        let seen = answer_count(&browser, "/api/me").await;
        click(&browser, "[data-testid=call-api]").await;
        wait_for_fresh_answer(&browser, "/api/me", seen, 200, Duration::from_secs(5)).await;
        assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
        assert!(!exists(&browser, LOGIN_FORM).await);
    }
    assert!(
        !rig.server.log().contains("reuse"),
        "no refresh counted as reuse:\n{}",
        rig.server.log()
    );
}

#[tokio::test]
async fn a_view_that_failed_to_load_during_an_outage_loads_again_when_the_server_is_back() {
    let mut rig = rig("300s").await;
    let browser = rig.signed_in_browser().await;
    // The server goes down; the user opens the sessions view (no reload: the SPA's own link).
    rig.server.stop().await;
    click(&browser, "a[href='/sessions']").await;
    rig.eventually(
        Duration::from_secs(15),
        "the sessions view says it failed",
        || async {
            text_now(&browser, "[data-testid=sessions-error]")
                .await
                .is_some()
        },
    )
    .await;
    let asked_while_down = rig.proxy.count("GET", "/api/sessions");
    assert!(asked_while_down >= 1);
    // The server comes back: the client's probe notices, and the view asks again by itself.
    rig.server.start_again().await;
    rig.eventually(
        Duration::from_secs(40),
        "the list loads without a click or reload",
        || async { exists(&browser, "[data-testid=sessions] li").await },
    )
    .await;
    assert!(!exists(&browser, "[data-testid=sessions-error]").await);
    assert!(
        rig.proxy.count("GET", "/api/sessions") > asked_while_down,
        "the view asked again after the outage"
    );
    browser.close().await.expect("close");
}
