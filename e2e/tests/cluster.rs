//! `make cluster` as a user would meet it (issue 11): PostgreSQL, two server instances on one
//! database and nginx round-robin in front (scripts/cluster.sh), and a browser that signs in,
//! reloads, refreshes and signs out through it — with its API calls and refreshes answered by
//! both instances (nginx names the instance in `X-Tokenpair-Instance`; the e2e proxy between
//! the browser and nginx records it).
//!
//! Needs a PostgreSQL cluster: `scripts/test.sh` runs the e2e layer under `scripts/pg.sh`
//! (which sets `TOKENPAIR_TEST_PG_URL`). Without one this test fails; it never skips.

use std::time::Duration;

use tokenpair_e2e::a11y::cdp;
use tokenpair_e2e::cluster::{count, free_port, spki_hash};
use tokenpair_e2e::{
    answer_count, answers, click, eventually, exists, open_window, reload, sign_in, switch_to,
    text_of, wait_for_fresh_answer, Cluster, ClusterOptions, Driver, Proxy,
};

const SIGNED_IN: &str = "[data-testid=me-username]";
const LOGIN_FORM: &str = "#username";
const ME: &str = "/api/me";

/// Waits (10 s at most) until the page shows the sign-in form and no signed-in user.
async fn until_signed_out(browser: &fantoccini::Client, what: &str) {
    eventually(Duration::from_secs(10), what, || async {
        exists(browser, LOGIN_FORM).await && !exists(browser, SIGNED_IN).await
    })
    .await;
}

#[tokio::test]
async fn through_nginx_and_two_instances_sign_in_reload_refresh_and_sign_out_use_both() {
    // The browser goes through the e2e proxy in front of nginx's plain-http listener: its log
    // holds every answer with nginx's `X-Tokenpair-Instance` (the instance that answered).
    let http_port = free_port();
    let proxy = Proxy::start(http_port).await;
    let cluster = Cluster::start(ClusterOptions {
        http_port: Some(http_port),
        allowed_origins: vec![proxy.url("")],
        ..ClusterOptions::default()
    })
    .await;
    let (a, b) = (&cluster.logs[0], &cluster.logs[1]);
    let instances = cluster.instances.clone();
    let answered_by = |method: &str, path: &str, status: u16| -> Vec<String> {
        proxy
            .exchanges(method, path)
            .iter()
            .filter(|e| e.status == Some(status))
            .filter_map(|e| e.header("x-tokenpair-instance").map(str::to_owned))
            .collect()
    };
    let on_both = |seen: &[String]| instances.iter().all(|i| seen.contains(i));

    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&proxy.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");

    // A reload restores the session through the cookie, whichever instance answers.
    reload(&browser).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    // Past the 3 s access tokens, API calls keep being answered — each click a fresh 200 —
    // until the API calls and the refreshes have both landed on both instances.
    for round in 0.. {
        let refreshes = answered_by("POST", "/api/auth/refresh", 200);
        let calls = answered_by("GET", ME, 200);
        if round >= 4 && on_both(&refreshes) && on_both(&calls) {
            break;
        }
        assert!(
            round < 16,
            "after {round} rounds, refreshes answered by {refreshes:?}, API calls by {calls:?}; \
             instances {instances:?}"
        );
        // Long pauses first (the token expires between calls), then quick ones too.
        let pause = if round < 4 { 1500 } else { 300 };
        tokio::time::sleep(Duration::from_millis(pause)).await;
        // One call on even rounds, two on odd ones: nginx takes turns strictly, so a fixed
        // number of requests per round could send every refresh to the same instance.
        for _ in 0..=(round % 2) {
            let seen = answer_count(&browser, ME).await;
            click(&browser, "[data-testid=call-api]").await;
            wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(10)).await;
        }
    }
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");

    click(&browser, "[data-testid=sign-out]").await;
    until_signed_out(&browser, "signed out").await;
    // The screen may show the sign-in form while the sign-out is still being confirmed (a
    // failed attempt is retried): wait for the server's 204, then check it came once.
    eventually(
        Duration::from_secs(10),
        "the sign-out answered 204",
        || async { !answered_by("POST", "/api/auth/logout", 204).is_empty() },
    )
    .await;
    let logout = answered_by("POST", "/api/auth/logout", 204);
    assert_eq!(
        logout.len(),
        1,
        "one sign-out answered 204: {:?}",
        proxy
            .exchanges("POST", "/api/auth/logout")
            .iter()
            .map(|e| (e.fault, e.status))
            .collect::<Vec<_>>()
    );
    let refreshes_before_reload = proxy.exchanges("POST", "/api/auth/refresh").len();
    reload(&browser).await;
    until_signed_out(&browser, "still signed out after a reload").await;
    // The instance that answered the sign-out ended the session (its log says so, the other's
    // does not), and the restore after the reload found no session, whichever instance it
    // reached.
    let ended_by = if logout[0] == instances[0] { a } else { b };
    let other = if logout[0] == instances[0] { b } else { a };
    assert_eq!(count(ended_by, &["signed out"]), 1, "{}", logout[0]);
    assert_eq!(count(other, &["signed out"]), 0);
    let after_reload: Vec<Option<u16>> = proxy.exchanges("POST", "/api/auth/refresh")
        [refreshes_before_reload..]
        .iter()
        .map(|e| e.status)
        .collect();
    // (The boot-time restore asks with `?optional=1`: "no session" is a 204, not a grant.)
    assert!(
        !after_reload.is_empty() && after_reload.iter().all(|s| *s == Some(204)),
        "the restore after sign-out finds no session: {after_reload:?}"
    );
    drop(proxy);
    // `cluster` stops here — and also when an assertion above failed.
}

/// The refresh cookie as the browser keeps it for `url` (DevTools: all attributes, HttpOnly
/// too), if it has one.
async fn refresh_cookie_for(browser: &fantoccini::Client, url: &str) -> Option<serde_json::Value> {
    let got = cdp(
        browser,
        "Network.getCookies",
        serde_json::json!({ "urls": [url] }),
    )
    .await;
    got["cookies"]
        .as_array()?
        .iter()
        .find(|c| c["name"] == "__Secure-refresh_token")
        .cloned()
}

#[tokio::test]
async fn over_tls_with_a_real_host_name_the_secure_http_only_strict_cookie_carries_the_session() {
    const HOST: &str = "tokenpair.test";
    let http_port = free_port();
    let plain_origin = format!("http://{HOST}:{http_port}");
    let cluster = Cluster::start(ClusterOptions {
        host: HOST,
        http_port: Some(http_port),
        allowed_origins: vec![plain_origin.clone()],
        ..ClusterOptions::default()
    })
    .await;
    let site = cluster.public_url.clone();
    let refresh_url = format!("{site}/api/auth/refresh");
    // A real name resolved to this machine, and this certificate (no other) trusted.
    let spki = spki_hash(&cluster.tls_dir.join(format!("{HOST}.pem")));
    let driver = Driver::start().await;
    let browser = driver
        .browser_with_args(&[
            &format!("--host-resolver-rules=MAP {HOST} 127.0.0.1"),
            &format!("--ignore-certificate-errors-spki-list={spki}"),
        ])
        .await;

    // Control: on plain http under a real name, the browser refuses the Secure cookie — as on
    // the internet (unlike http://127.0.0.1, where it relaxes the rule) — so a reload finds
    // no session.
    browser
        .goto(&format!("{plain_origin}/login"))
        .await
        .expect("open");
    sign_in(&browser, "user1", "password1").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    assert_eq!(
        refresh_cookie_for(&browser, &format!("{plain_origin}/api/auth/refresh")).await,
        None,
        "no Secure cookie kept from plain http"
    );
    reload(&browser).await;
    until_signed_out(&browser, "signed out after a reload").await;

    // Over TLS: sign in.
    browser.goto(&format!("{site}/login")).await.expect("open");
    let page: serde_json::Value = browser
        .execute(
            "const nav = performance.getEntriesByType('navigation')[0];
             return [isSecureContext, location.host, nav.nextHopProtocol];",
            vec![],
        )
        .await
        .expect("page facts");
    assert_eq!(
        page,
        serde_json::json!([true, format!("{HOST}:{}", cluster.port), "h2"]),
        "a secure context on the real name, over HTTP/2"
    );
    sign_in(&browser, "user1", "password1").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    let cookie = refresh_cookie_for(&browser, &refresh_url)
        .await
        .expect("the refresh cookie is kept");
    assert_eq!(cookie["secure"], true, "{cookie}");
    assert_eq!(cookie["httpOnly"], true, "{cookie}");
    assert_eq!(cookie["sameSite"], "Strict", "{cookie}");
    assert_eq!(cookie["path"], "/api/auth", "{cookie}");
    assert_eq!(cookie["domain"], HOST, "host-only: {cookie}");
    let readable: String = browser
        .execute("return document.cookie;", vec![])
        .await
        .expect("document.cookie")
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!readable.contains("refresh_token"), "{readable}");

    // A reload restores the session through the cookie.
    reload(&browser).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    let restored = answers(&browser, "/api/auth/refresh").await;
    assert_eq!(restored, [200], "the restore after the reload");

    // Past the 3 s access token: API calls keep succeeding, through refreshes.
    let first = browser.window().await.expect("this window");
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let seen = answer_count(&browser, ME).await;
    click(&browser, "[data-testid=call-api]").await;
    wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(10)).await;
    assert!(
        answer_count(&browser, "/api/auth/refresh").await >= 2,
        "refreshed: {:?}",
        answers(&browser, "/api/auth/refresh").await
    );
    let rotated = refresh_cookie_for(&browser, &refresh_url)
        .await
        .expect("still a cookie");
    assert_ne!(rotated["value"], cookie["value"], "the cookie was rotated");

    // A second tab is signed in from the same cookie; a sign-out in one ends both.
    let second = open_window(&browser, &format!("{site}/")).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    let seen = answer_count(&browser, ME).await;
    click(&browser, "[data-testid=call-api]").await;
    wait_for_fresh_answer(&browser, ME, seen, 200, Duration::from_secs(10)).await;
    switch_to(&browser, &first).await;
    click(&browser, "[data-testid=sign-out]").await;
    until_signed_out(&browser, "signed out").await;
    switch_to(&browser, &second).await;
    until_signed_out(&browser, "the other tab signed out").await;
    assert_eq!(
        refresh_cookie_for(&browser, &refresh_url).await,
        None,
        "the sign-out cleared the cookie"
    );
    reload(&browser).await;
    until_signed_out(&browser, "still signed out after a reload").await;
    assert_eq!(
        cluster.log_lines_with(&["signed out"]),
        1,
        "one session ended, on one instance"
    );
}

/// `POST {base}{path}` with a JSON body from the source address `from` (127.0.1.x: another
/// client of nginx), with extra headers; returns the status.
async fn post_from(
    from: [u8; 4],
    base: &str,
    path: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> u16 {
    use http_body_util::Full;
    use hyper_util::client::legacy::{connect::HttpConnector, Client};
    let mut connector = HttpConnector::new();
    connector.set_local_address(Some(std::net::IpAddr::from(from)));
    let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let mut request = hyper::Request::post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .header("x-requested-with", "XMLHttpRequest");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(bytes::Bytes::from(body.to_owned())))
        .expect("a request");
    tokio::time::timeout(Duration::from_secs(30), client.request(request))
        .await
        .unwrap_or_else(|_| panic!("POST {path}: no answer within 30 s"))
        .unwrap_or_else(|e| panic!("POST {path}: {e}"))
        .status()
        .as_u16()
}

const REGISTER_TAKEN: &str = r#"{"username":"user1","password":"Password123"}"#;

/// 21 registrations of a taken name: the 20 free attempts per address (409) and the refusal.
async fn register_flood(from: [u8; 4], base: &str, extra: impl Fn(usize) -> String) -> Vec<u16> {
    let mut got = Vec::new();
    for i in 0..21 {
        let forged = extra(i);
        let headers: Vec<(&str, &str)> = if forged.is_empty() {
            vec![]
        } else {
            vec![("x-forwarded-for", forged.as_str())]
        };
        got.push(post_from(from, base, "/api/auth/register", REGISTER_TAKEN, &headers).await);
    }
    got
}

fn spent_then_refused(got: &[u16]) -> bool {
    got.len() == 21 && got[..20].iter().all(|s| *s == 409) && got[20] == 429
}

#[tokio::test]
async fn through_nginx_each_client_address_has_its_own_limits_and_forged_headers_change_nothing() {
    let http_port = free_port();
    // nginx (127.0.0.1) is trusted, and so is 127.0.1.200: a second proxy in front of it.
    let cluster = Cluster::start(ClusterOptions {
        http_port: Some(http_port),
        trusted_proxies: Some("127.0.0.1,127.0.1.200"),
        ..ClusterOptions::default()
    })
    .await;
    let base = format!("http://127.0.0.1:{http_port}");

    // A registration flood from one client is refused after its 20 attempts...
    let got = register_flood([127, 0, 1, 11], &base, |_| String::new()).await;
    assert!(spent_then_refused(&got), "{got:?}");
    // ...while another client, through the same nginx, still registers freely.
    let other = post_from(
        [127, 0, 1, 12],
        &base,
        "/api/auth/register",
        REGISTER_TAKEN,
        &[],
    )
    .await;
    assert_eq!(
        other, 409,
        "a second client is not throttled with the first"
    );

    // A client forging X-Forwarded-For (a new address each time) is still one client: nginx
    // appends its real address, and only nginx is believed.
    let got = register_flood([127, 0, 1, 13], &base, |i| format!("203.0.113.{i}")).await;
    assert!(spent_then_refused(&got), "forged addresses: {got:?}");

    // Through two proxies: the rightmost address neither proxy is — whatever the client wrote
    // to the left of it.
    let got = register_flood([127, 0, 1, 200], &base, |i| {
        format!("192.0.2.{i}, 198.51.100.20")
    })
    .await;
    assert!(spent_then_refused(&got), "a chain of two proxies: {got:?}");
    let neighbour = post_from(
        [127, 0, 1, 200],
        &base,
        "/api/auth/register",
        REGISTER_TAKEN,
        &[("x-forwarded-for", "198.51.100.21")],
    )
    .await;
    assert_eq!(neighbour, 409, "another client of the second proxy");

    // Failed sign-ins from one client (20 per address, any account) do not lock out another
    // client signing in to the same account.
    for i in 0..20 {
        let body = format!(r#"{{"username":"nobody{i}","password":"wrong-password"}}"#);
        let s = post_from([127, 0, 1, 14], &base, "/api/auth/login", &body, &[]).await;
        assert_eq!(s, 401, "failure {i}");
    }
    let wrong_user1 = r#"{"username":"user1","password":"wrong-password"}"#;
    let s = post_from([127, 0, 1, 14], &base, "/api/auth/login", wrong_user1, &[]).await;
    assert_eq!(s, 429, "the flooding client is blocked");
    let user1 = r#"{"username":"user1","password":"password1"}"#;
    let s = post_from([127, 0, 1, 15], &base, "/api/auth/login", user1, &[]).await;
    assert_eq!(s, 200, "another client signs in");
    // The logs name the client, not nginx.
    assert_eq!(
        cluster.log_lines_with(&["failed sign-in", "ip=127.0.1.14"]),
        20
    );
    assert_eq!(cluster.log_lines_with(&["signed in", "ip=127.0.1.15"]), 1);
    assert_eq!(
        cluster.log_lines_with(&["ip=127.0.0.1"]),
        0,
        "never nginx's address"
    );
}
