//! Step-up (RFC 9470), in Chromium, against a scripted backend: a dangerous call refused with
//! `insufficient_user_authentication` waits for the person to confirm it is them, then goes
//! out exactly once more; concurrent challenged calls share one re-authentication; a cancel
//! fails them all with a distinct error and sends nothing more; a challenge after the
//! re-authentication is returned, never looped on; "sign out everywhere" asks before signing
//! out here. (The real server's challenge: `server/tests/step_up.rs`; the journey in the SPA:
//! `e2e/tests/step_up.rs`.)
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{config, eventually, path_of, sleep, target_of};
use futures::future::{join, FutureExt, LocalBoxFuture};
use tokenpair_client::{
    AuthEvent, ClientError, Method, Request, Response, SignOutScope, TokenClient,
    TokenpairProtocol, TokenpairSignIn, Transport, TransportError,
};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const CHALLENGE: &str = r#"Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=600"#;

#[derive(Default)]
struct Backend {
    /// (method, path, Authorization) of every request, in order.
    seen: Vec<(Method, String, Option<String>)>,
    /// The token the backend counts as recently authenticated.
    fresh_token: Option<String>,
    /// Tokens handed out so far.
    issued: u32,
    /// Every dangerous call is challenged, even with a fresh token (a backend that keeps asking).
    always_challenge: bool,
    /// The password the re-authentication accepts.
    password: &'static str,
}

#[derive(Clone, Default)]
struct StepUpBackend(Rc<RefCell<Backend>>);

fn json(status: u16, body: serde_json::Value) -> Response {
    Response::new(status, body.to_string())
}

impl Backend {
    fn grant(&mut self) -> Response {
        self.issued += 1;
        let token = format!("tok-{}", self.issued);
        json(
            200,
            serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 300,
                "session_id": "s1", "user": {"id": 1, "username": "ada"}}),
        )
    }

    fn challenged(&self, authorization: Option<&str>) -> bool {
        self.always_challenge
            || authorization.and_then(|a| a.strip_prefix("Bearer ")) != self.fresh_token.as_deref()
    }

    fn handle(&mut self, request: &Request) -> Response {
        let path = path_of(&request.url);
        let authorization = request.header_value("Authorization").map(str::to_owned);
        self.seen
            .push((request.method, path.clone(), authorization.clone()));
        let step_up = || {
            json(401, serde_json::json!({"error": "insufficient_user_authentication", "message": "Confirm it is you."}))
                .with_header("WWW-Authenticate", CHALLENGE)
        };
        match (request.method, path.as_str()) {
            (Method::Post, "/api/auth/login") => self.grant(),
            (Method::Post, "/api/auth/refresh") => Response::new(204, ""),
            (Method::Post, "/api/auth/reauthenticate") => {
                let body = request.body_text().unwrap_or_default();
                if body.contains(&format!("\"password\":\"{}\"", self.password)) {
                    let response = self.grant();
                    self.fresh_token = Some(format!("tok-{}", self.issued));
                    response
                } else {
                    json(
                        401,
                        serde_json::json!({"error": "invalid_credentials", "message": "Wrong password."}),
                    )
                }
            }
            (Method::Post, "/api/auth/logout") => {
                if target_of(request).ends_with("scope=global")
                    && self.challenged(authorization.as_deref())
                {
                    step_up()
                } else {
                    Response::new(204, "")
                }
            }
            (Method::Delete, p) if p.starts_with("/api/sessions/") => {
                if self.challenged(authorization.as_deref()) {
                    step_up()
                } else {
                    Response::new(204, "")
                }
            }
            (Method::Get, "/api/me") => json(200, serde_json::json!({"id": 1})),
            _ => json(404, serde_json::json!({"error": "not_found"})),
        }
    }
}

impl Transport for StepUpBackend {
    fn send(&self, request: Request) -> LocalBoxFuture<'static, Result<Response, TransportError>> {
        let backend = self.0.clone();
        async move {
            gloo_timers::future::TimeoutFuture::new(2).await;
            let response = backend.borrow_mut().handle(&request);
            Ok(response)
        }
        .boxed_local()
    }
}

impl StepUpBackend {
    fn new() -> Self {
        let backend = StepUpBackend::default();
        backend.0.borrow_mut().password = "secret";
        backend
    }

    fn sent(&self, method: Method, path: &str) -> usize {
        self.0
            .borrow()
            .seen
            .iter()
            .filter(|(m, p, _)| *m == method && p == path)
            .count()
    }
}

type Client = TokenClient<TokenpairProtocol>;

async fn signed_in(backend: &StepUpBackend, app: &str) -> Client {
    let client = TokenClient::with_transport(
        TokenpairProtocol::new(),
        config(app),
        Rc::new(backend.clone()),
    );
    client.start();
    let store = client.store();
    eventually(2_000, "the restore answered", || {
        store.signed_in().is_some()
    })
    .await;
    client
        .auth()
        .sign_in(TokenpairSignIn::password("ada", "secret"))
        .await
        .expect("signed in");
    client
}

/// Waits until the client asks for a re-authentication.
async fn asked(client: &Client) {
    let store = client.store();
    eventually(2_000, "the client asks to re-authenticate", || {
        store.reauthentication().is_some()
    })
    .await;
}

#[wasm_bindgen_test]
async fn a_challenged_call_waits_for_the_reauthentication_then_is_sent_exactly_once_more_with_the_new_token(
) {
    let backend = StepUpBackend::new();
    let client = signed_in(&backend, "step-up-once").await;
    let events = Rc::new(RefCell::new(Vec::new()));
    let seen = events.clone();
    client.on_event(move |e| {
        if let AuthEvent::ReauthenticationRequired { request } = e {
            seen.borrow_mut().push(request.clone());
        }
    });
    let api = client.api();
    let call = async move { api.delete("/api/sessions/other").await }
        .boxed_local()
        .shared();
    let running = call.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = running.await;
    });
    asked(&client).await;
    let asked = client.store().reauthentication().expect("asked");
    assert_eq!(asked.method, Method::Delete);
    assert_eq!(asked.url, "/api/sessions/other");
    assert_eq!(asked.challenge.max_age, Some(600));
    assert_eq!(backend.sent(Method::Delete, "/api/sessions/other"), 1);
    assert_eq!(
        backend.sent(Method::Post, "/api/auth/refresh"),
        1,
        "only the restore: a challenge is not a stale token"
    );

    // A wrong password: refused, and the call keeps waiting.
    let wrong = client
        .auth()
        .reauthenticate(TokenpairSignIn::confirm_password("nope"))
        .await;
    assert_eq!(wrong.unwrap_err().code(), Some("invalid_credentials"));
    sleep(50).await;
    assert!(client.store().reauthentication().is_some());
    assert_eq!(backend.sent(Method::Delete, "/api/sessions/other"), 1);

    client
        .auth()
        .reauthenticate(TokenpairSignIn::confirm_password("secret"))
        .await
        .expect("re-authenticated");
    call.await.expect("the call went through");
    assert_eq!(
        backend.sent(Method::Delete, "/api/sessions/other"),
        2,
        "exactly twice in total"
    );
    let last = backend.0.borrow().seen.last().cloned().unwrap();
    assert_eq!(
        last.2.as_deref(),
        Some("Bearer tok-2"),
        "with the new token"
    );
    assert!(client.store().reauthentication().is_none());
    assert_eq!(events.borrow().len(), 1);
    client.shutdown();
}

#[wasm_bindgen_test]
async fn concurrent_challenged_calls_share_one_reauthentication_and_a_cancel_fails_them_all_with_a_distinct_error(
) {
    let backend = StepUpBackend::new();
    let client = signed_in(&backend, "step-up-cancel").await;
    let count = Rc::new(RefCell::new(0));
    let counter = count.clone();
    client.on_event(move |e| {
        if matches!(e, AuthEvent::ReauthenticationRequired { .. }) {
            *counter.borrow_mut() += 1;
        }
    });
    let (api, other) = (client.api(), client.api());
    let both = join(
        async move { api.delete("/api/sessions/a").await },
        async move { other.delete("/api/sessions/b").await },
    )
    .boxed_local()
    .shared();
    let running = both.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = running.await;
    });
    asked(&client).await;
    eventually(2_000, "both calls were challenged", || {
        backend.sent(Method::Delete, "/api/sessions/a") == 1
            && backend.sent(Method::Delete, "/api/sessions/b") == 1
    })
    .await;
    client.auth().cancel_reauthentication();
    let (a, b) = both.await;
    assert_eq!(a, Err(ClientError::ReauthenticationCancelled));
    assert_eq!(b, Err(ClientError::ReauthenticationCancelled));
    sleep(50).await;
    assert_eq!(
        backend.sent(Method::Delete, "/api/sessions/a"),
        1,
        "nothing sent after a cancel"
    );
    assert_eq!(backend.sent(Method::Delete, "/api/sessions/b"), 1);
    assert_eq!(*count.borrow(), 1, "one re-authentication for both");
    assert_eq!(backend.sent(Method::Post, "/api/auth/reauthenticate"), 0);
    assert_eq!(client.store().signed_in(), Some(true), "still signed in");
    client.shutdown();
}

#[wasm_bindgen_test]
async fn a_backend_that_challenges_again_after_the_reauthentication_gets_its_error_back_and_no_loop(
) {
    let backend = StepUpBackend::new();
    backend.0.borrow_mut().always_challenge = true;
    let client = signed_in(&backend, "step-up-no-loop").await;
    let api = client.api();
    let call = async move { api.delete("/api/sessions/x").await }
        .boxed_local()
        .shared();
    let running = call.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = running.await;
    });
    asked(&client).await;
    client
        .auth()
        .reauthenticate(TokenpairSignIn::confirm_password("secret"))
        .await
        .expect("re-authenticated");
    let error = call.await.unwrap_err();
    assert_eq!(error.code(), Some("insufficient_user_authentication"));
    sleep(100).await;
    assert_eq!(backend.sent(Method::Delete, "/api/sessions/x"), 2);
    assert!(
        client.store().reauthentication().is_none(),
        "not asked again"
    );
    client.shutdown();
}

#[wasm_bindgen_test]
async fn signing_out_everywhere_asks_to_confirm_first_and_a_cancel_leaves_the_person_signed_in() {
    let backend = StepUpBackend::new();
    let client = signed_in(&backend, "step-up-sign-out-cancel").await;
    let auth = client.auth();
    let sign_out = auth
        .sign_out(SignOutScope::Everywhere)
        .boxed_local()
        .shared();
    let running = sign_out.clone();
    wasm_bindgen_futures::spawn_local(running);
    asked(&client).await;
    assert_eq!(
        client.store().signed_in(),
        Some(true),
        "not signed out while asking"
    );
    client.auth().cancel_reauthentication();
    sign_out.await;
    assert_eq!(client.store().signed_in(), Some(true));
    assert_eq!(client.store().pending_sign_out(), None);
    assert_eq!(backend.sent(Method::Post, "/api/auth/logout"), 1);
    client
        .api()
        .get_json::<serde_json::Value>("/api/me")
        .await
        .expect("still works");
    client.shutdown();
}

#[wasm_bindgen_test]
async fn signing_out_everywhere_after_confirming_sends_the_request_exactly_twice_and_signs_out() {
    let backend = StepUpBackend::new();
    let client = signed_in(&backend, "step-up-sign-out").await;
    let auth = client.auth();
    let sign_out = auth
        .sign_out(SignOutScope::Everywhere)
        .boxed_local()
        .shared();
    let running = sign_out.clone();
    wasm_bindgen_futures::spawn_local(running);
    asked(&client).await;
    client
        .auth()
        .reauthenticate(TokenpairSignIn::confirm_password("secret"))
        .await
        .expect("re-authenticated");
    sign_out.await;
    assert_eq!(client.store().signed_in(), Some(false));
    assert_eq!(backend.sent(Method::Post, "/api/auth/logout"), 2);
    client.shutdown();
}

#[wasm_bindgen_test]
async fn signing_out_everywhere_without_a_challenge_sends_the_request_once() {
    let backend = StepUpBackend::new();
    let client = signed_in(&backend, "step-up-sign-out-plain").await;
    backend.0.borrow_mut().fresh_token = Some("tok-1".into());
    client.auth().sign_out(SignOutScope::Everywhere).await;
    assert_eq!(client.store().signed_in(), Some(false));
    assert_eq!(client.store().pending_sign_out(), None);
    assert_eq!(backend.sent(Method::Post, "/api/auth/logout"), 1);
    client.shutdown();
}

#[wasm_bindgen_test]
fn the_rfc_9470_challenge_is_read_from_any_backend_with_max_age_and_acr_values() {
    let c = tokenpair_client::StepUp::parse(
        r#"Bearer error="insufficient_user_authentication", error_description="A more recent authentication is required", max_age=5, acr_values="urn:a urn:b""#,
    );
    assert_eq!(c.max_age, Some(5));
    assert_eq!(c.acr_values.as_deref(), Some("urn:a urn:b"));
    // Without the header (a cross-origin backend that does not expose it): the JSON code.
    let r = Response::new(401, r#"{"error":"insufficient_user_authentication"}"#);
    assert!(tokenpair_client::StepUp::from_response(&r).is_some());
    let r = Response::new(401, r#"{"error":"invalid_token"}"#)
        .with_header("WWW-Authenticate", r#"Bearer error="invalid_token""#);
    assert!(tokenpair_client::StepUp::from_response(&r).is_none());
}
