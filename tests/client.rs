//! The refresh-on-401 client, in a real browser (wasm-pack test --headless --chrome), with a
//! fake transport standing in for the server so every branch can be driven on purpose.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{join_all, FutureExt, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use tokenpair::client::{
    Client, ClientError, HttpRequest, HttpResponse, Method, NetworkError, RefreshOutcome, Settings,
    Transport,
};
use tokenpair::session::{EventKind, Session, SESSION_ENDED};
use tokenpair_api::{paths, Credentials, Me, TokenResponse, UserSummary};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What the fake server does on `/api/auth/refresh`.
#[derive(Clone, Copy, PartialEq)]
enum RefreshMode {
    Grant,
    Refuse,
    NetworkDown,
}

struct FakeState {
    /// The only access token `/api/me` accepts.
    valid_token: String,
    refresh_mode: RefreshMode,
    refresh_delay_ms: u32,
    /// When true, `/api/me` answers 401 whatever the token.
    me_always_401: bool,
    me_network_down: bool,
    refresh_calls: u32,
    me_calls: u32,
    login_calls: u32,
    issued: u32,
}

#[derive(Clone)]
struct Fake(Rc<RefCell<FakeState>>);

impl Fake {
    fn new() -> Fake {
        Fake(Rc::new(RefCell::new(FakeState {
            valid_token: "fresh-0".into(),
            refresh_mode: RefreshMode::Grant,
            refresh_delay_ms: 30,
            me_always_401: false,
            me_network_down: false,
            refresh_calls: 0,
            me_calls: 0,
            login_calls: 0,
            issued: 0,
        })))
    }
}

fn token_response(token: &str, expires_in: u64) -> TokenResponse {
    TokenResponse {
        access_token: token.into(),
        token_type: "Bearer".into(),
        expires_in,
        user: UserSummary {
            id: 1,
            username: "user1".into(),
        },
    }
}

fn json(status: u16, body: impl serde::Serialize) -> Result<HttpResponse, NetworkError> {
    Ok(HttpResponse {
        status,
        body: serde_json::to_string(&body).unwrap(),
    })
}

impl Transport for Fake {
    fn send(
        &self,
        req: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, NetworkError>> {
        let state = self.0.clone();
        async move {
            TimeoutFuture::new(5).await;
            match (req.method, req.path.as_str()) {
                (Method::Post, paths::REFRESH) => {
                    let (mode, delay) = {
                        let mut s = state.borrow_mut();
                        s.refresh_calls += 1;
                        (s.refresh_mode, s.refresh_delay_ms)
                    };
                    TimeoutFuture::new(delay).await;
                    match mode {
                        RefreshMode::Grant => {
                            let mut s = state.borrow_mut();
                            s.issued += 1;
                            s.valid_token = format!("fresh-{}", s.issued);
                            json(200, token_response(&s.valid_token, 300))
                        }
                        RefreshMode::Refuse => json(401, serde_json::json!({"error": "refresh_token_reused", "message": "reused"})),
                        RefreshMode::NetworkDown => Err(NetworkError("connection refused".into())),
                    }
                }
                (Method::Post, paths::LOGIN) => {
                    state.borrow_mut().login_calls += 1;
                    json(401, serde_json::json!({"error": "invalid_credentials", "message": "Wrong username or password."}))
                }
                (Method::Get, paths::ME) => {
                    let mut s = state.borrow_mut();
                    s.me_calls += 1;
                    if s.me_network_down {
                        return Err(NetworkError("offline".into()));
                    }
                    if s.me_always_401 || req.bearer.as_deref() != Some(s.valid_token.as_str()) {
                        return json(401, serde_json::json!({"error": "invalid_token", "message": "expired"}));
                    }
                    json(200, Me { id: 1, username: "user1".into(), created_at: "2026-01-01T00:00:00Z".into() })
                }
                _ => json(404, serde_json::json!({"error": "not_found", "message": "no"})),
            }
        }
        .boxed_local()
    }
}

fn test_settings() -> Settings {
    Settings {
        lock: None,
        proactive: false,
        probe_every_ms: 60_000,
        ..Settings::default()
    }
}

/// A client whose session holds an access token the fake server no longer accepts.
fn signed_in_with_expired_token(fake: &Fake, settings: Settings) -> (Client, Session) {
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let session = Session::new();
    session.sign_in(token_response("expired", 300), EventKind::SignedIn, "test");
    let client = Client::new(Rc::new(fake.clone()), session, settings);
    (client, session)
}

#[wasm_bindgen_test]
async fn concurrent_401s_share_exactly_one_refresh_and_all_requests_succeed() {
    let fake = Fake::new();
    let (client, _) = signed_in_with_expired_token(&fake, test_settings());
    let requests = (0..8).map(|_| client.get_json::<Me>(paths::ME));
    let results = join_all(requests).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|me| me.username == "user1")),
        "{results:?}"
    );
    assert_eq!(
        fake.0.borrow().refresh_calls,
        1,
        "one refresh for eight 401s"
    );
}

#[wasm_bindgen_test]
async fn a_request_started_while_a_refresh_runs_waits_for_it_instead_of_sending_the_old_token() {
    let fake = Fake::new();
    fake.0.borrow_mut().refresh_delay_ms = 100;
    let (client, _) = signed_in_with_expired_token(&fake, test_settings());
    let refresh = client.refresh(EventKind::ProactiveRefresh);
    let me = client.get_json::<Me>(paths::ME).await;
    assert!(me.is_ok(), "{me:?}");
    assert_eq!(refresh.await, RefreshOutcome::Refreshed);
    let s = fake.0.borrow();
    assert_eq!(
        (s.refresh_calls, s.me_calls),
        (1, 1),
        "no 401 round trip: it waited for the refresh"
    );
}

#[wasm_bindgen_test]
async fn a_refused_refresh_signs_out_with_a_message_and_never_loops() {
    let fake = Fake::new();
    fake.0.borrow_mut().refresh_mode = RefreshMode::Refuse;
    let (client, session) = signed_in_with_expired_token(&fake, test_settings());
    let result = client.get_json::<Me>(paths::ME).await;
    assert_eq!(result, Err(ClientError::SessionEnded));
    assert_eq!(session.signed_in(), Some(false));
    assert_eq!(session.notice().as_deref(), Some(SESSION_ENDED));
    // Give any stray retry a chance to happen, then check nothing more was sent.
    TimeoutFuture::new(100).await;
    let s = fake.0.borrow();
    assert_eq!((s.me_calls, s.refresh_calls), (1, 1));
}

#[wasm_bindgen_test]
async fn the_original_request_is_retried_at_most_once() {
    let fake = Fake::new();
    fake.0.borrow_mut().me_always_401 = true;
    let (client, session) = signed_in_with_expired_token(&fake, test_settings());
    let result = client.get_json::<Me>(paths::ME).await;
    assert!(
        matches!(result, Err(ClientError::Api { status: 401, .. })),
        "{result:?}"
    );
    let s = fake.0.borrow();
    assert_eq!(
        (s.me_calls, s.refresh_calls),
        (2, 1),
        "one request, one refresh, one retry"
    );
    assert_eq!(
        session.signed_in(),
        Some(true),
        "a 401 on the retry is an answer, not a sign-out"
    );
}

#[wasm_bindgen_test]
async fn auth_endpoints_are_never_intercepted() {
    let fake = Fake::new();
    let (client, _) = signed_in_with_expired_token(&fake, test_settings());
    let creds = Credentials {
        username: "user1".into(),
        password: "wrong-password".into(),
    };
    let result = client.sign_in(&creds, false).await;
    assert!(
        matches!(&result, Err(ClientError::Api { code, .. }) if code == "invalid_credentials"),
        "{result:?}"
    );
    assert_eq!(
        fake.0.borrow().refresh_calls,
        0,
        "a 401 from login does not trigger a refresh"
    );
    let direct = client.send(HttpRequest::post(paths::REFRESH)).await;
    assert!(
        direct.is_err(),
        "auth endpoints cannot go through the retrying path"
    );
    assert_eq!(fake.0.borrow().refresh_calls, 0);
}

#[wasm_bindgen_test]
async fn a_refresh_that_finishes_after_sign_out_is_discarded() {
    let fake = Fake::new();
    fake.0.borrow_mut().refresh_delay_ms = 100;
    let (client, session) = signed_in_with_expired_token(&fake, test_settings());
    let refresh = client.refresh(EventKind::ProactiveRefresh);
    TimeoutFuture::new(20).await;
    session.sign_out(None, "test");
    assert_eq!(refresh.await, RefreshOutcome::Stale);
    assert_eq!(
        session.signed_in(),
        Some(false),
        "the late token did not sign the user back in"
    );
    assert!(session.access_token_untracked().is_none());
}

#[wasm_bindgen_test]
async fn a_network_failure_keeps_the_session_and_shows_unreachable() {
    let fake = Fake::new();
    fake.0.borrow_mut().me_network_down = true;
    let (client, session) = signed_in_with_expired_token(&fake, test_settings());
    let result = client.get_json::<Me>(paths::ME).await;
    assert_eq!(result, Err(ClientError::Unreachable));
    assert_eq!(session.signed_in(), Some(true));
    assert!(session.unreachable());

    // A refresh that cannot reach the server does not sign out either.
    fake.0.borrow_mut().me_network_down = false;
    fake.0.borrow_mut().refresh_mode = RefreshMode::NetworkDown;
    assert_eq!(
        client.refresh(EventKind::RefreshAfter401).await,
        RefreshOutcome::Unreachable
    );
    assert_eq!(session.signed_in(), Some(true));
}

#[wasm_bindgen_test]
async fn tokens_never_reach_web_storage_or_document_cookie() {
    let fake = Fake::new();
    let (client, session) = signed_in_with_expired_token(&fake, test_settings());
    client
        .get_json::<Me>(paths::ME)
        .await
        .expect("refresh and retry");
    let token = session.access_token_untracked().expect("a token in memory");
    assert!(token.starts_with("fresh-"));

    let window = web_sys::window().unwrap();
    let mut stored = String::new();
    for storage in [window.local_storage(), window.session_storage()]
        .into_iter()
        .flatten()
        .flatten()
    {
        for i in 0..storage.length().unwrap_or(0) {
            if let Ok(Some(key)) = storage.key(i) {
                stored.push_str(&key);
                stored.push_str(&storage.get_item(&key).ok().flatten().unwrap_or_default());
            }
        }
    }
    let document: web_sys::HtmlDocument =
        wasm_bindgen::JsCast::dyn_into(window.document().unwrap()).unwrap();
    stored.push_str(&document.cookie().unwrap_or_default());
    assert!(
        !stored.contains(&token) && !stored.contains("fresh-") && !stored.contains("expired"),
        "found a token in: {stored}"
    );
}

#[wasm_bindgen_test]
async fn a_proactive_refresh_fires_before_the_access_token_expires() {
    let fake = Fake::new();
    let settings = Settings {
        proactive: true,
        ..test_settings()
    };
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let session = Session::new();
    let client = Client::new(Rc::new(fake.clone()), session, settings);
    // Sign in through the client so it schedules the refresh: a 2 s token, refreshed by 1.6 s.
    session.sign_in(token_response("fresh-0", 2), EventKind::SignedIn, "test");
    client.check_now();
    TimeoutFuture::new(1_800).await;
    assert_eq!(
        fake.0.borrow().refresh_calls,
        1,
        "refreshed once, before the 2 s expiry"
    );
    let remaining = session.token_untracked().unwrap().expires_in;
    assert_eq!(remaining, 300, "the new token is in the session");
}
