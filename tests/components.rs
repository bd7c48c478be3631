//! The app's components in a real browser: the whole app is mounted over a scripted fake
//! server (no network), and the tests watch the DOM and the URL like a user would.
//! Covers the route guard (no flash of the login page, `?next=` round trip) and the login form
//! (server messages, disabled button, navigation), plus the token inspector's JWT decoding.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use leptos::mount::mount_to;
use tokenpair::app::app_with;
use tokenpair::jwt;
use tokenpair::pages::login::safe_next;
use tokenpair_api::{paths, SessionInfo, TokenResponse, UserSummary};
use tokenpair_client::{
    ClientConfig, LockMode, Method, Request, Response, Transport, TransportError,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// A JWT whose payload holds a non-ASCII claim and base64url's `-`/`_` alphabet.
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImhzMjU2LWFiYyJ9.eyJpc3MiOiJ0b2tlbnBhaXIiLCJhdWQiOiJ0b2tlbnBhaXItYXBpIiwic3ViIjoiMSIsInNpZCI6InMtMSIsImp0aSI6ImotMSIsImlhdCI6MTc2NzAwMDAwMCwiZXhwIjoxNzY3MDAwMzAwLCJuYW1lIjoiWm_DqyDinJMifQ.c2lnbmF0dXJl";

/// What the fake server answers on each endpoint, and what it was asked.
#[derive(Default)]
struct Script {
    /// Delay before `/api/auth/refresh` answers, and whether it grants.
    refresh_delay_ms: u32,
    refresh_grants: bool,
    login_delay_ms: u32,
    login_grants: bool,
    /// Set the moment the fake answers a refresh (before the client sees the answer).
    refresh_answered: bool,
    log: Vec<String>,
}

#[derive(Clone, Default)]
struct Fake(Rc<RefCell<Script>>);

fn json(status: u16, body: impl serde::Serialize) -> Result<Response, TransportError> {
    Ok(Response::new(
        status,
        serde_json::to_string(&body).expect("serialisable"),
    ))
}

fn granted() -> TokenResponse {
    TokenResponse {
        access_token: JWT.into(),
        token_type: "Bearer".into(),
        expires_in: 300,
        session_id: "s-1".into(),
        idle_expires_in: None,
        session_expires_in: None,
        user: UserSummary {
            id: 1,
            username: "user1".into(),
        },
    }
}

fn error(status: u16, code: &str, message: &str) -> Result<Response, TransportError> {
    json(
        status,
        serde_json::json!({ "error": code, "message": message }),
    )
}

impl Transport for Fake {
    fn send(&self, req: Request) -> LocalBoxFuture<'static, Result<Response, TransportError>> {
        let script = self.0.clone();
        // The client sends absolute URLs, the query apart: keep the path and query.
        let query: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let path = web_sys::Url::new(&req.url)
            .map(|u| u.pathname())
            .unwrap_or_else(|_| req.url.clone());
        let path = if query.is_empty() {
            path
        } else {
            format!("{path}?{}", query.join("&"))
        };
        async move {
            script.borrow_mut().log.push(path.clone());
            match (req.method, path.as_str()) {
                (Method::Post, paths::REFRESH | paths::REFRESH_OPTIONAL) => {
                    let (delay, grants) = {
                        let s = script.borrow();
                        (s.refresh_delay_ms, s.refresh_grants)
                    };
                    TimeoutFuture::new(delay).await;
                    script.borrow_mut().refresh_answered = true;
                    if grants {
                        json(200, granted())
                    } else {
                        error(401, "invalid_refresh_token", "No session.")
                    }
                }
                (Method::Post, paths::LOGIN) => {
                    let (delay, grants) = {
                        let s = script.borrow();
                        (s.login_delay_ms, s.login_grants)
                    };
                    TimeoutFuture::new(delay).await;
                    if grants {
                        json(200, granted())
                    } else {
                        error(
                            401,
                            "invalid_credentials",
                            "Wrong username or password.",
                        )
                    }
                }
                (Method::Get, paths::SESSIONS) => json(
                    200,
                    vec![SessionInfo {
                        id: "s-1".into(),
                        created_at: "2026-11-22T10:00:00Z".into(),
                        last_used_at: "2026-11-22T10:05:00Z".into(),
                        expires_at: "2026-11-29T10:00:00Z".into(),
                        user_agent: Some("Test browser".into()),
                        device: "Chrome on Linux".into(),
                        current: true,
                    }],
                ),
                (Method::Get, paths::ME) => json(
                    200,
                    serde_json::json!({"id": 1, "username": "user1", "created_at": "2026-01-01T00:00:00Z"}),
                ),
                _ => error(404, "not_found", "No such endpoint."),
            }
        }
        .boxed_local()
    }
}

/// The app mounted in its own container at `url`; unmounted (and the URL reset) on drop.
struct Mounted {
    container: HtmlElement,
    _handle: Box<dyn std::any::Any>,
}

impl Mounted {
    fn at(url: &str, fake: &Fake) -> Mounted {
        let _ = any_spawner::Executor::init_wasm_bindgen();
        let window = web_sys::window().expect("window");
        window
            .history()
            .expect("history")
            .push_state_with_url(&JsValue::NULL, "", Some(url))
            .expect("pushState");
        let document = window.document().expect("document");
        let container: HtmlElement = document
            .create_element("div")
            .expect("div")
            .unchecked_into();
        document
            .body()
            .expect("body")
            .append_child(&container)
            .expect("append");
        // This page's tests do not share a lock or a channel, remember nothing, and keep
        // timers out of the way.
        let config = ClientConfig::builder("components")
            .lock_mode(LockMode::Off)
            .channel_name(None)
            .pending_sign_out_key(None)
            .proactive_refresh(false)
            .wake_check_every(std::time::Duration::ZERO)
            .build();
        let transport: Rc<dyn Transport> = Rc::new(fake.clone());
        let handle = mount_to(container.clone(), move || {
            app_with(transport.clone(), config.clone())
        });
        Mounted {
            container,
            _handle: Box::new(handle),
        }
    }

    fn find(&self, css: &str) -> Option<Element> {
        self.container.query_selector(css).ok().flatten()
    }

    fn text(&self, css: &str) -> Option<String> {
        self.find(css).and_then(|e| e.text_content())
    }

    fn has_login_form(&self) -> bool {
        self.find("#username").is_some()
    }

    fn type_into(&self, css: &str, value: &str) {
        let input: HtmlInputElement = self.find(css).expect(css).unchecked_into();
        input.set_value(value);
        let event = web_sys::Event::new("input").expect("event");
        input.dispatch_event(&event).expect("dispatch");
    }

    fn click(&self, css: &str) {
        let el: HtmlElement = self.find(css).expect(css).unchecked_into();
        el.click();
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.container.remove();
        if let Some(w) = web_sys::window() {
            let _ = w
                .history()
                .and_then(|h| h.replace_state_with_url(&JsValue::NULL, "", Some("/")));
        }
    }
}

fn location() -> String {
    let loc = web_sys::window().expect("window").location();
    format!(
        "{}{}",
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default()
    )
}

/// Polls every 10 ms until `done` holds (returns true) or `ms` pass (returns false).
async fn within(ms: u32, mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..ms / 10 {
        if done() {
            return true;
        }
        TimeoutFuture::new(10).await;
    }
    done()
}

#[wasm_bindgen_test]
async fn the_route_guard_shows_a_neutral_state_while_restoring_then_sends_a_stranger_to_login_with_next(
) {
    let fake = Fake::default();
    fake.0.borrow_mut().refresh_delay_ms = 200;
    let app = Mounted::at("/sessions", &fake);
    let answered = || fake.0.borrow().refresh_answered;

    // Every check below is made before the fake has answered, however slow the machine.
    let mut neutral = false;
    within(5000, || {
        if answered() {
            return true;
        }
        neutral |= app
            .text("[role=status]")
            .is_some_and(|t| t.contains("Restoring your session"))
            && !app.has_login_form();
        neutral
    })
    .await;
    assert!(
        neutral,
        "while the silent refresh runs, the guard shows a neutral loading state"
    );
    // Not once before the refresh is refused may the login form appear.
    let mut saw_login_early = false;
    within(5000, || {
        let answered = answered();
        saw_login_early |= !answered && app.has_login_form();
        answered
    })
    .await;
    assert!(
        !saw_login_early,
        "no flash of the login page while restoring"
    );

    assert!(
        within(2000, || app.has_login_form()).await,
        "a refused restore ends on the login form"
    );
    assert_eq!(location(), "/login?next=%2Fsessions");
    assert_eq!(
        fake.0.borrow().log,
        vec![paths::REFRESH_OPTIONAL.to_string()]
    );
}

#[wasm_bindgen_test]
async fn the_route_guard_lets_a_restored_session_through_to_the_deep_link() {
    let fake = Fake::default();
    {
        let mut s = fake.0.borrow_mut();
        s.refresh_delay_ms = 50;
        s.refresh_grants = true;
    }
    let app = Mounted::at("/sessions", &fake);
    let mut saw_login = false;
    let shown = within(2000, || {
        saw_login |= app.has_login_form() || location().starts_with("/login");
        app.find("[data-testid=session]").is_some()
    })
    .await;
    assert!(shown, "the sessions list renders after the silent restore");
    assert!(
        !saw_login,
        "neither the login route nor its form ever showed"
    );
    assert_eq!(location(), "/sessions");
    assert_eq!(
        app.text("[data-testid=whoami]").as_deref(),
        Some("user1"),
        "the header shows the restored user"
    );
}

#[wasm_bindgen_test]
async fn the_login_form_disables_its_button_while_submitting_and_shows_the_servers_message() {
    let fake = Fake::default();
    fake.0.borrow_mut().login_delay_ms = 150;
    let app = Mounted::at("/login", &fake);
    assert!(
        within(1000, || app.has_login_form()).await,
        "the login form"
    );

    app.type_into("#username", "user1");
    app.type_into("#password", "wrong-password");
    app.click("[data-testid=submit]");

    let button: web_sys::HtmlButtonElement = app
        .find("[data-testid=submit]")
        .expect("submit button")
        .unchecked_into();
    assert!(
        within(100, || button.disabled()).await,
        "the button is disabled while the request runs"
    );
    assert!(
        within(2000, || app.find("[data-testid=form-error]").is_some()).await,
        "an error message appears"
    );
    assert_eq!(
        app.text("[data-testid=form-error]").as_deref(),
        Some("Wrong username or password."),
        "the message is the server's own"
    );
    assert!(!button.disabled(), "the button is enabled again");
    assert_eq!(location(), "/login", "no navigation on failure");
    assert!(fake.0.borrow().log.contains(&paths::LOGIN.to_string()));
}

#[wasm_bindgen_test]
async fn signing_in_through_the_form_returns_to_the_page_the_user_asked_for() {
    let fake = Fake::default();
    fake.0.borrow_mut().login_grants = true;
    let app = Mounted::at("/login?next=%2Ftoken", &fake);
    assert!(
        within(1000, || app.has_login_form()).await,
        "the login form"
    );

    app.type_into("#username", "user1");
    app.type_into("#password", "password1");
    app.click("[data-testid=submit]");

    assert!(
        within(2000, || app.find("[data-testid=jwt]").is_some()).await,
        "the token inspector shows the new access token"
    );
    assert_eq!(location(), "/token");
    assert_eq!(
        app.text("[data-testid=jwt-header]")
            .map(|t| t.contains("\"typ\": \"at+jwt\"")),
        Some(true),
        "the header is decoded and indented"
    );
}

#[wasm_bindgen_test]
async fn the_inspector_hides_the_signature_until_the_user_reveals_it() {
    let fake = Fake::default();
    fake.0.borrow_mut().refresh_grants = true;
    let app = Mounted::at("/token", &fake);
    assert!(
        within(2000, || app.find("[data-testid=jwt]").is_some()).await,
        "the token inspector"
    );
    let whole_token_shown = || {
        app.text("[data-testid=jwt]")
            .is_some_and(|t| t.contains("c2lnbmF0dXJl"))
    };
    assert!(!whole_token_shown(), "the signature is masked at first");
    app.click("[data-testid=reveal-signature]");
    assert!(within(500, whole_token_shown).await, "revealed on request");
    app.click("[data-testid=reveal-signature]");
    assert!(within(500, || !whole_token_shown()).await, "hidden again");
}

#[wasm_bindgen_test]
fn next_accepts_only_same_origin_paths_and_never_the_login_pages() {
    assert_eq!(safe_next(Some("/sessions".into())), "/sessions");
    assert_eq!(safe_next(Some("/token?x=1".into())), "/token?x=1");
    for hostile in [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/login?next=/x",
        "/register",
        "",
        "/\t/evil.example",
        "/\n/evil.example",
    ] {
        assert_eq!(safe_next(Some(hostile.into())), "/", "{hostile:?}");
    }
    assert_eq!(safe_next(None), "/");
}

#[wasm_bindgen_test]
fn the_inspector_decodes_base64url_utf8_claims_in_token_order() {
    let d = jwt::decode(JWT).expect("a JWT");
    assert_eq!(d.claim("name"), Some("\"Zoë ✓\""));
    assert_eq!(d.claim("exp"), Some("1767000300"));
    assert_eq!(d.claim("iss"), Some("\"tokenpair\""));
    assert_eq!(d.claim("nope"), None);
    let names: Vec<&str> = d.claims.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["iss", "aud", "sub", "sid", "jti", "iat", "exp", "name"]
    );
    assert!(d.payload.starts_with("{\n  \"iss\": \"tokenpair\""));
    assert_eq!(d.signature_b64, "c2lnbmF0dXJl");
    // The header's members, for the "signed with … by the key …" line.
    assert_eq!(d.header_text("alg"), Some("HS256"));
    assert_eq!(d.header_text("kid"), Some("hs256-abc"));
    assert_eq!(d.header_text("typ"), Some("at+jwt"));

    for not_a_jwt in ["", "a.b", "a.b.c.d", "%%%.e30.x", "e30.bm90IGpzb24.x"] {
        assert_eq!(jwt::decode(not_a_jwt), None, "{not_a_jwt:?}");
    }
}
