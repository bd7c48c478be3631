//! DPoP end to end (issue 24), in Chromium against the real server: the SPA binds its session
//! to a key the browser cannot export, and what a thief copies out of the browser — the
//! access token shown by the token inspector, the refresh cookie read through WebDriver — is
//! refused when replayed from outside, as Bearer or with another key.

use std::time::Duration;

use base64::Engine;
use tokenpair_e2e::{
    answers, click, eventually, http_request, path, refresh_cookie_value, reload, sign_in, text_of,
    Driver, Server, ServerOptions,
};
use tokenpair_testkit::dpop::ProofKey;

const SIGNED_IN: &str = "[data-testid=me-username]";

/// The DPoP key as the page's IndexedDB holds it: whether there is one, whether WebCrypto
/// lets anyone export its private half, and its public key's RFC 7638 thumbprint.
const READ_STORED_KEY: &str = r#"
    const done = arguments[arguments.length - 1];
    (async () => {
      const d = await new Promise((ok, no) => { const r = indexedDB.open('tokenpair:dpop', 1);
        r.onupgradeneeded = () => r.result.createObjectStore('keys');
        r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
      const pair = await new Promise((ok, no) => { const g = d.transaction('keys').objectStore('keys').get('dpop');
        g.onsuccess = () => ok(g.result); g.onerror = () => no(g.error); });
      d.close();
      if (!pair) return { present: false };
      let exported = true;
      try { await crypto.subtle.exportKey('jwk', pair.privateKey); } catch (_) { exported = false; }
      const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
      const hash = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
      const jkt = btoa(String.fromCharCode(...new Uint8Array(hash))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      return { present: true, extractable: pair.privateKey.extractable, exported, jkt };
    })().then(done, (e) => done({ error: String(e) }));
"#;

#[derive(Debug)]
struct StoredKey {
    present: bool,
    extractable: bool,
    exported: bool,
    jkt: String,
}

async fn stored_key(browser: &fantoccini::Client) -> StoredKey {
    let v = browser
        .execute_async(READ_STORED_KEY, vec![])
        .await
        .expect("read IndexedDB");
    assert!(v["error"].is_null(), "{v}");
    StoredKey {
        present: v["present"].as_bool().unwrap_or(false),
        extractable: v["extractable"].as_bool().unwrap_or(true),
        exported: v["exported"].as_bool().unwrap_or(true),
        jkt: v["jkt"].as_str().unwrap_or_default().to_owned(),
    }
}

/// The access token, as the token inspector reveals it.
async fn token_from_inspector(browser: &fantoccini::Client, server: &Server) -> String {
    browser.goto(&server.url("/token")).await.expect("open");
    text_of(browser, "[data-testid=jwt]").await;
    click(browser, "[data-testid=reveal-signature]").await;
    eventually(Duration::from_secs(5), "the signature revealed", || async {
        !text_of(browser, "[data-testid=jwt]").await.contains('•')
    })
    .await;
    text_of(browser, "[data-testid=jwt]")
        .await
        .split_whitespace()
        .collect()
}

/// The `cnf.jkt` claim of `token`.
fn bound_key(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["cnf"]["jkt"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn the_session_is_bound_to_a_non_extractable_key_that_survives_a_reload_and_a_copied_access_token_is_useless(
) {
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        ..ServerOptions::default()
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;

    let key = stored_key(&browser).await;
    assert!(
        key.present,
        "the sign-in made a key and kept it in IndexedDB"
    );
    assert!(!key.extractable, "made with extractable: false");
    assert!(!key.exported, "exportKey rejects for the private key");

    // The token is bound to that key, and the dashboard's calls succeeded with it: the server
    // accepts a bound token only as `Authorization: DPoP` with a proof by the key.
    assert_eq!(answers(&browser, "/api/me").await, [200]);
    let token = token_from_inspector(&browser, &server).await;
    assert_eq!(bound_key(&token).as_deref(), Some(key.jkt.as_str()));
    let explained = text_of(&browser, "[data-testid=cnf-jkt]").await;
    assert!(
        explained.contains(&key.jkt) && explained.contains("Sender-constrained"),
        "{explained}"
    );

    // A reload restores the session through the cookie, with the same key.
    browser.goto(&server.url("/")).await.expect("open");
    reload(&browser).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    assert_eq!(stored_key(&browser).await.jkt, key.jkt, "the same key");
    let restored = token_from_inspector(&browser, &server).await;
    assert_ne!(restored, token, "a new access token");
    assert_eq!(bound_key(&restored).as_deref(), Some(key.jkt.as_str()));

    // The copied token, replayed from outside the browser: as Bearer…
    let me = server.url("/api/me");
    let as_bearer = http_request(
        "GET",
        &me,
        &[("Authorization", &format!("Bearer {restored}"))],
    )
    .await;
    assert_eq!(as_bearer.status, 401, "{}", as_bearer.body);
    assert!(
        as_bearer.body.contains("invalid_dpop_proof"),
        "{}",
        as_bearer.body
    );
    assert!(as_bearer
        .header("www-authenticate")
        .is_some_and(|h| h.starts_with("DPoP ")));
    // …or as DPoP with a proof by the thief's own key.
    let thief = ProofKey::new();
    let proof = thief.proof("GET", &me, Some(&restored), None);
    let as_dpop = http_request(
        "GET",
        &me,
        &[
            ("Authorization", &format!("DPoP {restored}")),
            ("DPoP", &proof),
        ],
    )
    .await;
    assert_eq!(as_dpop.status, 401, "{}", as_dpop.body);
    assert!(
        as_dpop.body.contains("invalid_dpop_proof"),
        "{}",
        as_dpop.body
    );
    // The browser itself goes on.
    browser.goto(&server.url("/")).await.expect("open");
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
}

#[tokio::test]
async fn a_refresh_cookie_replayed_with_another_key_ends_the_session_and_signing_out_deletes_the_key(
) {
    let server = Server::start(ServerOptions {
        access_token_expiry: "5m",
        ..ServerOptions::default()
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    let first_key = stored_key(&browser).await.jkt;

    // Without a proof the stolen cookie does nothing, and changes nothing…
    let stolen = refresh_cookie_value(&browser, &server.url("/api/auth/refresh")).await;
    let cookie = format!("__Secure-refresh_token={stolen}");
    let refresh = server.url("/api/auth/refresh");
    let bare = http_request(
        "POST",
        &refresh,
        &[("Cookie", &cookie), ("X-Requested-With", "XMLHttpRequest")],
    )
    .await;
    assert_eq!(bare.status, 401, "{}", bare.body);
    assert!(bare.body.contains("invalid_dpop_proof"), "{}", bare.body);
    browser.goto(&server.url("/")).await.expect("open");
    reload(&browser).await;
    assert_eq!(
        text_of(&browser, SIGNED_IN).await,
        "user1",
        "the session lives on"
    );

    // …with another key it is theft: the session ends.
    let stolen = refresh_cookie_value(&browser, &server.url("/api/auth/refresh")).await;
    let cookie = format!("__Secure-refresh_token={stolen}");
    let proof = ProofKey::new().proof("POST", &refresh, None, None);
    let replay = http_request(
        "POST",
        &refresh,
        &[
            ("Cookie", &cookie),
            ("X-Requested-With", "XMLHttpRequest"),
            ("DPoP", &proof),
        ],
    )
    .await;
    assert_eq!(replay.status, 401, "{}", replay.body);
    assert!(
        replay.body.contains("refresh_token_reused"),
        "{}",
        replay.body
    );
    browser.goto(&server.url("/")).await.expect("open");
    eventually(
        Duration::from_secs(10),
        "the ended session sends the tab to the sign-in page",
        || async { path(&browser).await == "/login" },
    )
    .await;

    // The next sign-in makes a new key (the ended session's was deleted); signing out deletes
    // that one too.
    sign_in(&browser, "user1", "password1").await;
    text_of(&browser, SIGNED_IN).await;
    let notice = text_of(&browser, "[data-testid=security-notice]").await;
    assert!(
        notice.contains("without this browser's key"),
        "the dashboard tells why the session ended: {notice}"
    );
    let second_key = stored_key(&browser).await;
    assert!(second_key.present);
    assert_ne!(second_key.jkt, first_key, "a new key for the new session");
    click(&browser, "[data-testid=sign-out]").await;
    eventually(Duration::from_secs(10), "the key is deleted", || async {
        !stored_key(&browser).await.present
    })
    .await;
}

#[tokio::test]
async fn with_server_nonces_required_the_spa_signs_in_reloads_and_calls_the_api_through_use_dpop_nonce(
) {
    // DPOP=required and DPOP_NONCE on: the first proof of each kind is answered
    // `use_dpop_nonce`, and the client retries once with the nonce.
    let server = Server::start(ServerOptions {
        access_token_expiry: "3s",
        extra_args: vec!["--dpop".into(), "required".into(), "--dpop-nonce".into()],
        ..ServerOptions::default()
    })
    .await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.goto(&server.url("/login")).await.expect("open");
    sign_in(&browser, "user1", "password1").await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    assert_eq!(
        answers(&browser, "/api/auth/login").await,
        [400, 200],
        "one use_dpop_nonce, then the sign-in with the nonce"
    );
    reload(&browser).await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    // Past the 3 s access token: the API call refreshes and goes on with the nonce it has.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let seen = tokenpair_e2e::answer_count(&browser, "/api/me").await;
    click(&browser, "[data-testid=call-api]").await;
    tokenpair_e2e::wait_for_fresh_answer(&browser, "/api/me", seen, 200, Duration::from_secs(10))
        .await;
    assert_eq!(text_of(&browser, SIGNED_IN).await, "user1");
    let token = token_from_inspector(&browser, &server).await;
    assert_eq!(
        bound_key(&token),
        Some(stored_key(&browser).await.jkt),
        "bound to the stored key"
    );
}
