//! DPoP on the wire, in Chromium, against a scripted backend that checks what RFC 9449 asks
//! of a client: a proof on the sign-in (the key made then), on every refresh and sign-out, and
//! on every call with the bound token (`Authorization: DPoP`, `ath`); one retry with the
//! server's nonce, and the newest nonce on later proofs; the key deleted by the sign-out; a
//! session whose key is gone ends with a message saying why; with DPoP off, no proof at all.
//! (The real server's checks of these proofs are `server/tests/dpop.rs`; the whole journey in
//! the SPA is `e2e/tests/dpop.rs`.)
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{config, eventually, path_of};
use futures::future::{FutureExt, LocalBoxFuture};
use tokenpair_client::dpop::DpopKey;
use tokenpair_client::{
    Method, Notice, Request, Response, SignOutScope, TokenClient, TokenType, TokenpairProtocol,
    TokenpairSignIn, Transport, TransportError,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A request as the backend saw it, with its proof decoded.
#[derive(Clone, Debug)]
struct Seen {
    path: String,
    authorization: Option<String>,
    proof: Option<(serde_json::Value, serde_json::Value)>,
}

#[derive(Default)]
struct Backend {
    seen: Vec<Seen>,
    /// The nonce the backend insists on (answers `use_dpop_nonce` to a proof without it).
    nonce: Option<String>,
    /// The thumbprint-free stand-in for `cnf.jkt`: the bound key's `x`.
    bound_x: Option<String>,
    /// Every proof is refused with a new nonce (a server that keeps asking).
    rotate_nonce: bool,
    /// The backend's clock, this many seconds ahead of the browser's (its `Date` header).
    clock_ahead_s: Option<f64>,
    /// Refreshes are refused for want of a proof (as tokenpair does for a bound session).
    refresh_needs_proof: bool,
}

#[derive(Clone, Default)]
struct DpopBackend(Rc<RefCell<Backend>>);

fn decode_part(part: &str) -> serde_json::Value {
    let script = format!(
        "atob({:?}.replace(/-/g,'+').replace(/_/g,'/') + '==='.slice(({len} + 3) % 4))",
        part,
        len = part.len()
    );
    let text = js_sys::eval(&script)
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

fn json(status: u16, body: serde_json::Value) -> Response {
    Response::new(status, body.to_string())
}

fn grant(token_type: &str) -> Response {
    json(
        200,
        serde_json::json!({"access_token": "tok-1", "token_type": token_type, "expires_in": 300,
            "session_id": "s1", "user": {"id": 1, "username": "ada"}}),
    )
}

impl Backend {
    fn handle(&mut self, request: &Request) -> Response {
        let proof = request.header_value("DPoP").map(|jwt| {
            let mut parts = jwt.split('.');
            let header = decode_part(parts.next().unwrap_or_default());
            let claims = decode_part(parts.next().unwrap_or_default());
            (header, claims)
        });
        let path = path_of(&request.url);
        self.seen.push(Seen {
            path: path.clone(),
            authorization: request.header_value("Authorization").map(str::to_owned),
            proof: proof.clone(),
        });
        let claims = proof.as_ref().map(|(_, c)| c.clone());
        let key_x = proof
            .as_ref()
            .and_then(|(h, _)| h["jwk"]["x"].as_str().map(str::to_owned));
        if let (Some(nonce), Some(claims)) = (&self.nonce, &claims) {
            if claims["nonce"].as_str() != Some(nonce) || self.rotate_nonce {
                let nonce = if self.rotate_nonce {
                    let next = format!("{nonce}+");
                    self.nonce = Some(next.clone());
                    next
                } else {
                    nonce.clone()
                };
                let status = if path.starts_with("/api/auth") {
                    400
                } else {
                    401
                };
                return json(status, serde_json::json!({"error": "use_dpop_nonce"}))
                    .with_header("DPoP-Nonce", &nonce);
            }
        }
        match (request.method, path.as_str()) {
            (Method::Post, "/api/auth/login") => {
                if key_x.is_some() {
                    self.bound_x = key_x;
                    grant("DPoP")
                } else {
                    grant("Bearer")
                }
            }
            (Method::Post, "/api/auth/refresh") => {
                if self.refresh_needs_proof && key_x.is_none() {
                    json(401, serde_json::json!({"error": "invalid_dpop_proof"}))
                } else if key_x.is_some() && key_x == self.bound_x {
                    grant("DPoP")
                } else {
                    Response::new(204, "")
                }
            }
            (Method::Post, "/api/auth/logout") => Response::new(204, ""),
            (Method::Get, "/api/me") => json(200, serde_json::json!({"id": 1})),
            _ => json(404, serde_json::json!({"error": "not_found"})),
        }
    }
}

impl Transport for DpopBackend {
    fn send(&self, request: Request) -> LocalBoxFuture<'static, Result<Response, TransportError>> {
        let backend = self.0.clone();
        async move {
            gloo_timers::future::TimeoutFuture::new(2).await;
            let mut backend = backend.borrow_mut();
            let response = backend.handle(&request);
            Ok(match backend.clock_ahead_s {
                Some(ahead) => {
                    let date = js_sys::Date::new(&(js_sys::Date::now() + ahead * 1000.0).into());
                    response.with_header("Date", &String::from(date.to_utc_string()))
                }
                None => response,
            })
        }
        .boxed_local()
    }
}

type Client = TokenClient<TokenpairProtocol>;

async fn client_over(backend: &DpopBackend, app: &str, dpop: bool) -> Client {
    let mut cfg = config(app);
    cfg.dpop = dpop;
    let client =
        TokenClient::with_transport(TokenpairProtocol::new(), cfg, Rc::new(backend.clone()));
    client.start();
    let store = client.store();
    eventually(2_000, "the restore answered", || {
        store.signed_in().is_some()
    })
    .await;
    eventually(1_000, "the restore finished", || !client.is_refreshing()).await;
    client
}

async fn sign_in(client: &Client) {
    client
        .auth()
        .sign_in(TokenpairSignIn::password("ada", "secret"))
        .await
        .expect("signed in");
}

/// Whether IndexedDB holds a key for `app` (the test app id `test-{app}`).
async fn key_stored(app: &str) -> bool {
    let script = format!(
        "new Promise((ok, no) => {{ const r = indexedDB.open('test-{app}:dpop', 1); \
         r.onupgradeneeded = () => r.result.createObjectStore('keys'); \
         r.onsuccess = () => {{ const d = r.result; const g = d.transaction('keys').objectStore('keys').get('dpop'); \
         g.onsuccess = () => {{ d.close(); ok(g.result !== undefined); }}; g.onerror = () => no(g.error); }}; \
         r.onerror = () => no(r.error); }})"
    );
    let promise: js_sys::Promise = js_sys::eval(&script).unwrap().into();
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .unwrap()
        .as_bool()
        .unwrap()
}

fn proofs_to<'a>(seen: &'a [Seen], path: &str) -> Vec<&'a Seen> {
    seen.iter().filter(|s| s.path == path).collect()
}

#[wasm_bindgen_test]
async fn with_dpop_on_the_sign_in_refresh_calls_and_sign_out_carry_proofs_by_one_key() {
    let app = "dpop-on";
    DpopKey::new(&format!("test-{app}")).forget().await.ok();
    let backend = DpopBackend::default();
    let client = client_over(&backend, app, true).await;
    sign_in(&client).await;
    let token = client.store().token().expect("a token");
    assert_eq!(token.token_type(), TokenType::Dpop, "token_type DPoP read");
    client
        .api()
        .get_json::<serde_json::Value>("/api/me")
        .await
        .expect("the call succeeds");
    assert_eq!(
        client.refresh().await,
        tokenpair_client::RefreshOutcome::Refreshed
    );

    let seen = backend.0.borrow().seen.clone();
    let login = proofs_to(&seen, "/api/auth/login");
    let (header, claims) = login[0].proof.clone().expect("the sign-in carries a proof");
    assert_eq!(header["typ"], "dpop+jwt");
    assert_eq!(header["alg"], "EdDSA", "Ed25519 where the browser has it");
    assert!(header["jwk"]["d"].is_null(), "the public key only");
    assert_eq!(claims["htm"], "POST");
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    assert_eq!(claims["htu"], format!("{origin}/api/auth/login"));
    assert!(claims["ath"].is_null(), "no token presented at sign-in");
    let key_x = header["jwk"]["x"].clone();

    let me = proofs_to(&seen, "/api/me");
    assert_eq!(me.len(), 1);
    assert_eq!(me[0].authorization.as_deref(), Some("DPoP tok-1"));
    let (header, claims) = me[0].proof.clone().expect("the call carries a proof");
    assert_eq!(header["jwk"]["x"], key_x, "the same key");
    assert_eq!(claims["htm"], "GET");
    assert_eq!(claims["htu"], format!("{origin}/api/me"));
    // base64url(SHA-256("tok-1"))
    assert_eq!(claims["ath"], "ZdzxbqPfpJBpYoCJ60p1SDBw9VhLKiHuZJErX2IfEto");

    let refreshes = proofs_to(&seen, "/api/auth/refresh");
    let last = refreshes.last().unwrap();
    let (header, claims) = last.proof.clone().expect("the refresh carries a proof");
    assert_eq!(header["jwk"]["x"], key_x);
    assert!(claims["ath"].is_null());
    let jtis: std::collections::HashSet<String> = seen
        .iter()
        .filter_map(|s| s.proof.as_ref())
        .map(|(_, c)| c["jti"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        jtis.len(),
        seen.iter().filter(|s| s.proof.is_some()).count(),
        "a new jti on every proof"
    );

    assert!(
        key_stored(app).await,
        "the key is in IndexedDB while signed in"
    );
    client.auth().sign_out(SignOutScope::ThisDevice).await;
    let seen = backend.0.borrow().seen.clone();
    let logout = proofs_to(&seen, "/api/auth/logout");
    let (header, claims) = logout[0]
        .proof
        .clone()
        .expect("the sign-out carries a proof");
    assert_eq!(header["jwk"]["x"], key_x);
    assert_eq!(logout[0].authorization.as_deref(), Some("DPoP tok-1"));
    assert_eq!(claims["ath"], "ZdzxbqPfpJBpYoCJ60p1SDBw9VhLKiHuZJErX2IfEto");
    assert!(!key_stored(app).await, "the sign-out deleted the key");
}

#[wasm_bindgen_test]
async fn a_use_dpop_nonce_answer_is_retried_once_with_the_nonce_and_later_proofs_carry_it() {
    let app = "dpop-nonce";
    let backend = DpopBackend::default();
    let client = client_over(&backend, app, true).await;
    backend.0.borrow_mut().nonce = Some("n-1".into());
    sign_in(&client).await;
    let nonces = |path: &str| -> Vec<Option<String>> {
        proofs_to(&backend.0.borrow().seen, path)
            .iter()
            .map(|s| {
                s.proof
                    .as_ref()
                    .and_then(|(_, c)| c["nonce"].as_str().map(str::to_owned))
            })
            .collect()
    };
    let n = |s: &str| Some(s.to_owned());
    assert_eq!(
        nonces("/api/auth/login"),
        [None, n("n-1")],
        "one retry, with the nonce"
    );

    // A resource asks for a newer nonce (401): one retry there too, and no refresh.
    let refreshes = proofs_to(&backend.0.borrow().seen, "/api/auth/refresh").len();
    backend.0.borrow_mut().nonce = Some("n-2".into());
    client
        .api()
        .get_json::<serde_json::Value>("/api/me")
        .await
        .expect("the call succeeds");
    assert_eq!(nonces("/api/me"), [n("n-1"), n("n-2")]);
    assert_eq!(
        proofs_to(&backend.0.borrow().seen, "/api/auth/refresh").len(),
        refreshes,
        "the nonce retry is not a refresh"
    );

    // The server stops asking: the next proof still carries the newest nonce it gave.
    backend.0.borrow_mut().nonce = None;
    client
        .api()
        .get_json::<serde_json::Value>("/api/me")
        .await
        .unwrap();
    assert_eq!(nonces("/api/me").last().cloned().flatten(), n("n-2"));
}

#[wasm_bindgen_test]
async fn a_server_that_keeps_asking_for_a_new_nonce_gets_exactly_one_retry_per_request() {
    let app = "dpop-nonce-loop";
    let backend = DpopBackend::default();
    let client = client_over(&backend, app, true).await;
    sign_in(&client).await;
    backend.0.borrow_mut().rotate_nonce = true;
    backend.0.borrow_mut().nonce = Some("r-0".into());
    let result = client.api().get_json::<serde_json::Value>("/api/me").await;
    assert!(
        result.is_err(),
        "the last refusal is the caller's: {result:?}"
    );
    assert_eq!(
        proofs_to(&backend.0.borrow().seen, "/api/me").len(),
        2,
        "the first try and one retry with the nonce: no loop"
    );
}

#[wasm_bindgen_test]
async fn a_session_whose_key_is_gone_ends_at_restore_with_a_message_saying_why() {
    let app = "dpop-lost";
    DpopKey::new(&format!("test-{app}")).forget().await.ok();
    let backend = DpopBackend::default();
    backend.0.borrow_mut().refresh_needs_proof = true;
    let client = client_over(&backend, app, true).await;
    assert_eq!(client.store().signed_in(), Some(false));
    assert_eq!(client.store().notice(), Some(Notice::DpopKeyLost));
    let seen = backend.0.borrow().seen.clone();
    assert!(
        seen[0].proof.is_none(),
        "no key, so no proof (and no new key)"
    );
    assert!(!key_stored(app).await, "the restore made no key");
}

#[wasm_bindgen_test]
async fn with_dpop_off_no_request_carries_a_proof_and_tokens_go_as_bearer() {
    let app = "dpop-off";
    let backend = DpopBackend::default();
    let client = client_over(&backend, app, false).await;
    sign_in(&client).await;
    client
        .api()
        .get_json::<serde_json::Value>("/api/me")
        .await
        .unwrap();
    client.auth().sign_out(SignOutScope::ThisDevice).await;
    let seen = backend.0.borrow().seen.clone();
    assert!(seen.len() >= 4);
    assert!(seen.iter().all(|s| s.proof.is_none()), "no DPoP header");
    assert_eq!(
        proofs_to(&seen, "/api/me")[0].authorization.as_deref(),
        Some("Bearer tok-1")
    );
    assert!(!key_stored(app).await, "no key was made");
}

#[wasm_bindgen_test]
async fn proofs_carry_the_servers_time_learnt_from_its_date_header_not_a_wrong_local_clock() {
    let app = "dpop-clock";
    let backend = DpopBackend::default();
    // The browser's clock is ten minutes behind the server's (far outside the iat window).
    backend.0.borrow_mut().clock_ahead_s = Some(600.0);
    let client = client_over(&backend, app, true).await;
    sign_in(&client).await;
    client
        .api()
        .get_json::<serde_json::Value>("/api/me")
        .await
        .unwrap();
    let seen = backend.0.borrow().seen.clone();
    let (_, claims) = proofs_to(&seen, "/api/me")[0].proof.clone().unwrap();
    let iat = claims["iat"].as_f64().expect("iat");
    let server_now = js_sys::Date::now() / 1000.0 + 600.0;
    assert!(
        (iat - server_now).abs() < 5.0,
        "iat {iat} is the server's time ({server_now}), not the local clock's"
    );
}
