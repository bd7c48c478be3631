//! The client against a backend that is not tokenpair's: OAuth 2.0 field names, a form body to
//! sign in, its own paths and CSRF header, the user read from the access token's claims, no
//! session id, no "optional restore" convention, `400 invalid_grant` for a dead refresh token.
//! Only a `Protocol` implementation differs. (The e2e suite runs the same shape of backend for
//! real, with `client/examples/third_party_app.rs`, in Chromium.) Also: adopting a session that
//! started elsewhere.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use common::{config, eventually, path_of, FakeServer};
use futures::future::{FutureExt, LocalBoxFuture};
use serde::{Deserialize, Serialize};
use tokenpair_client::protocol::jwt;
use tokenpair_client::{
    ClientConfig, ClientError, Endpoints, Grant, Method, Notice, Protocol, RefreshOutcome, Request,
    Response, SignOutScope, TokenClient, Transport, TransportError,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The app's own user type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Person {
    id: String,
    name: String,
}

/// The protocol of the OAuth-shaped backend below: the whole adaptation.
struct ThirdParty {
    endpoints: Endpoints,
}

impl ThirdParty {
    fn new() -> Self {
        ThirdParty {
            endpoints: Endpoints::new("/auth/token/refresh", "/auth/logout")
                .with_cookie_path("/auth/token")
                .with_csrf_header("X-CSRF-Token", "1"),
        }
    }
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    name: String,
}

impl Protocol for ThirdParty {
    type User = Person;
    type SignIn = (String, String);

    fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn sign_in_request(&self, (username, password): &(String, String)) -> Request {
        Request::post("/auth/token").form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
    }

    fn read_grant(&self, response: &Response) -> Result<Grant<Person>, String> {
        let body: TokenBody = response.json()?;
        let claims: Claims = jwt::claims(&body.access_token)?;
        let user = Person {
            id: claims.sub,
            name: claims.name,
        };
        Ok(Grant::new(
            body.access_token,
            Duration::from_secs(body.expires_in),
            user,
        ))
    }

    fn user_to_js(&self, user: &Person) -> JsValue {
        tokenpair_client::json::to_value(user).unwrap_or(JsValue::NULL)
    }

    fn user_from_js(&self, value: &JsValue) -> Result<Person, String> {
        tokenpair_client::json::from_value(value.clone())
    }
}

/// The backend: rotating refresh tokens in a cookie jar, JWT-shaped access tokens.
#[derive(Default)]
struct Backend {
    jar: Option<String>,
    live_refresh: Option<String>,
    access: HashMap<String, bool>,
    next: u32,
    rotations: u32,
    refreshes: u32,
    missing_csrf: u32,
    logouts: u32,
}

#[derive(Clone, Default)]
struct OAuthServer(Rc<RefCell<Backend>>);

fn b64(text: &str) -> String {
    let script =
        format!("btoa({text:?}).replace(/=+$/,'').replace(/\\+/g,'-').replace(/\\//g,'_')");
    js_sys::eval(&script).unwrap().as_string().unwrap()
}

fn json(status: u16, body: serde_json::Value) -> Response {
    Response::new(status, body.to_string())
}

impl Backend {
    fn issue(&mut self) -> Response {
        self.next += 1;
        let refresh = format!("rt-{}", self.next);
        self.jar = Some(refresh.clone());
        self.live_refresh = Some(refresh);
        let payload = format!(
            r#"{{"sub":"42","name":"Ada","exp":{}}}"#,
            (js_sys::Date::now() / 1000.0) as u64 + 300
        );
        let token = format!(
            "{}.{}.sig{}",
            b64(r#"{"alg":"none"}"#),
            b64(&payload),
            self.next
        );
        self.access.insert(token.clone(), true);
        json(
            200,
            serde_json::json!({"access_token": token, "token_type": "Bearer", "expires_in": 300}),
        )
    }

    fn handle(&mut self, request: &Request) -> Response {
        if request.header_value("X-CSRF-Token") != Some("1") {
            self.missing_csrf += 1;
        }
        match (request.method, path_of(&request.url).as_str()) {
            (Method::Post, "/auth/token") => {
                let body = request.body_text().unwrap_or_default();
                if body.contains("username=ada") && body.contains("password=secret") {
                    self.issue()
                } else {
                    json(
                        400,
                        serde_json::json!({"error": "invalid_grant", "error_description": "Wrong username or password."}),
                    )
                }
            }
            (Method::Post, "/auth/token/refresh") => {
                self.refreshes += 1;
                if self.jar.is_some() && self.jar == self.live_refresh {
                    self.rotations += 1;
                    self.issue()
                } else {
                    json(400, serde_json::json!({"error": "invalid_grant"}))
                }
            }
            (Method::Post, "/auth/logout") => {
                self.logouts += 1;
                self.live_refresh = None;
                self.jar = None;
                Response::new(204, "")
            }
            (Method::Get, "/api/profile") => match request.bearer() {
                Some(t) if self.access.get(t) == Some(&true) => {
                    json(200, serde_json::json!({"name": "Ada"}))
                }
                _ => json(
                    401,
                    serde_json::json!({"detail": "Token is invalid or expired", "code": "token_not_valid"}),
                ),
            },
            _ => json(404, serde_json::json!({"detail": "Not found."})),
        }
    }
}

impl Transport for OAuthServer {
    fn send(&self, request: Request) -> LocalBoxFuture<'static, Result<Response, TransportError>> {
        let backend = self.0.clone();
        async move {
            gloo_timers::future::TimeoutFuture::new(5).await;
            Ok(backend.borrow_mut().handle(&request))
        }
        .boxed_local()
    }
}

fn third_party(server: &OAuthServer, cfg: ClientConfig) -> TokenClient<ThirdParty> {
    TokenClient::with_transport(ThirdParty::new(), cfg, Rc::new(server.clone()))
}

#[derive(Deserialize)]
struct Profile {
    name: String,
}

#[wasm_bindgen_test]
async fn an_oauth_shaped_backend_works_through_its_own_protocol() {
    let server = OAuthServer::default();
    let client = third_party(&server, config("oauth"));
    client.start();
    let store = client.store();
    // No cookie: its refresh refuses with 400 invalid_grant, which at page load just means
    // "nobody signed in".
    eventually(1_000, "restore done", || store.signed_in() == Some(false)).await;
    assert_eq!(store.notice(), None);

    let wrong = client.auth().sign_in(("ada".into(), "nope".into())).await;
    assert!(
        matches!(&wrong, Err(ClientError::Api(e)) if e.code == "invalid_grant" && e.message == "Wrong username or password."),
        "{wrong:?}"
    );
    client
        .auth()
        .sign_in(("ada".into(), "secret".into()))
        .await
        .expect("signed in");
    assert_eq!(store.user().map(|p| p.name).as_deref(), Some("Ada"));
    assert_eq!(
        store.token().unwrap().session_id(),
        None,
        "this backend names no sessions"
    );

    // 401 → one refresh → one retry.
    server.0.borrow_mut().access.clear();
    let profile = client
        .api()
        .get_json::<Profile>("/api/profile")
        .await
        .expect("after a refresh");
    assert_eq!(profile.name, "Ada");
    assert_eq!(server.0.borrow().rotations, 1);

    // A reload restores through the cookie.
    client.shutdown();
    let reloaded = third_party(&server, config("oauth"));
    reloaded.start();
    let store = reloaded.store();
    eventually(1_000, "restored", || store.signed_in() == Some(true)).await;
    eventually(1_000, "the restore settled", || !reloaded.is_refreshing()).await;

    // The refresh token dies on the server: 400 invalid_grant ends the session, with the reason.
    server.0.borrow_mut().live_refresh = None;
    assert_eq!(reloaded.refresh().await, RefreshOutcome::Ended);
    assert_eq!(store.notice(), Some(Notice::SessionEnded));

    // Sign in again and out.
    reloaded
        .auth()
        .sign_in(("ada".into(), "secret".into()))
        .await
        .unwrap();
    reloaded.auth().sign_out(SignOutScope::ThisDevice).await;
    assert_eq!(store.notice(), Some(Notice::SignedOut));
    assert_eq!(server.0.borrow().logouts, 1);
    assert_eq!(
        server.0.borrow().missing_csrf,
        0,
        "its CSRF header went with every request"
    );
    reloaded.shutdown();
}

#[wasm_bindgen_test]
async fn a_session_started_elsewhere_is_adopted_and_then_managed_like_any_other() {
    let server = FakeServer::new();
    let a = common::started(&server, config("adopt")).await;
    let b = common::started(&server, config("adopt")).await;
    assert_eq!(a.store().signed_in(), Some(false));
    // An OIDC redirect (say) signed user2 in: the cookie is set, the app holds the token response.
    server.sign_in_elsewhere(2, "user2");
    let body = {
        let refreshed = FakeServer(server.0.clone());
        let response = tokenpair_client::Transport::send(
            &refreshed,
            Request::post(format!(
                "{}/api/auth/refresh",
                web_sys::window().unwrap().location().origin().unwrap()
            )),
        )
        .await
        .unwrap();
        response
    };
    a.auth().adopt_token_response(&body).await.expect("adopted");
    assert_eq!(a.store().user().map(|u| u.id), Some(2));
    eventually(500, "the other tab follows", || {
        b.store().user().map(|u| u.id) == Some(2)
    })
    .await;
    // From here on it is an ordinary session: it refreshes (rotating the adopted cookie).
    assert_eq!(a.refresh().await, RefreshOutcome::Refreshed);
    assert_eq!(server.counters(|c| c.reuse_detected), 0);
    a.shutdown();
    b.shutdown();
}
