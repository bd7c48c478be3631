//! A second backend, shaped like a typical third-party token API rather than like tokenpair,
//! serving `client/examples/third_party_app.rs` (built by `scripts/build-examples.sh`) from the
//! same origin. It runs inside the test process (axum on loopback):
//!
//! | endpoint | what it does |
//! |---|---|
//! | `POST /auth/token` | form body `grant_type=password&username&password` → `{access_token, token_type, expires_in}` + refresh cookie |
//! | `POST /auth/token/refresh` | rotates the cookie; a dead, unknown, missing or reused one → `400 {"error":"invalid_grant"}` (a reuse ends the family) |
//! | `POST /auth/logout` | ends the family, clears the cookie, 204 |
//! | `GET /api/profile` | Bearer JWT (HS256, jsonwebtoken) → `{name, email}`; otherwise `401 {"detail","code"}` |
//!
//! Every `/auth` request must carry its CSRF header `X-CSRF-Token: 1` (403 otherwise). The
//! refresh cookie is `rt`, `HttpOnly; SameSite=Strict; Path=/auth`. Access tokens name the
//! user in `sub`/`name`; there is no session id and no user object in the token response.
//! The test drives it through [`ThirdParty`]: counters, and faults (expire every access token,
//! kill every refresh token).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::oneshot;

const SECRET: &[u8] = b"third-party-backend-test-secret-0123456789";
const COOKIE: &str = "rt";

/// What the backend saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub sign_ins: u32,
    pub refresh_requests: u32,
    pub rotations: u32,
    pub refusals: u32,
    pub reuse_detected: u32,
    pub logouts: u32,
    pub profiles_served: u32,
    pub profiles_refused: u32,
    pub missing_csrf: u32,
}

#[derive(Default)]
struct Backend {
    /// Refresh token → (family, user id).
    tokens: HashMap<String, (u64, String)>,
    /// Family → its current refresh token (`None`: ended).
    families: HashMap<u64, Option<String>>,
    next: u64,
    /// Access tokens of an older generation are refused (401).
    generation: u64,
    access_lifetime: Duration,
    stats: Stats,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    sub: String,
    name: String,
    iat: u64,
    exp: u64,
    generation: u64,
}

type Shared = Arc<Mutex<Backend>>;

fn users(id: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match id {
        "ada" => Some(("lovelace", "Ada Lovelace", "ada@example.test")),
        "grace" => Some(("hopper", "Grace Hopper", "grace@example.test")),
        _ => None,
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn invalid_grant(jar: CookieJar, description: &str) -> Response {
    let body = json!({"error": "invalid_grant", "error_description": description});
    (StatusCode::BAD_REQUEST, jar.remove(removal()), Json(body)).into_response()
}

fn removal() -> Cookie<'static> {
    Cookie::build(COOKIE).path("/auth").build()
}

impl Backend {
    fn csrf_ok(&mut self, headers: &HeaderMap) -> bool {
        let ok = headers.get("x-csrf-token").is_some_and(|v| v == "1");
        if !ok {
            self.stats.missing_csrf += 1;
        }
        ok
    }

    /// A new refresh token for `family`, and the token response with a fresh access token.
    fn issue(&mut self, family: u64, user: &str, jar: CookieJar) -> Response {
        self.next += 1;
        let refresh = format!("rt-{family}-{}-{}", self.next, rand_suffix(self.next));
        self.tokens
            .insert(refresh.clone(), (family, user.to_owned()));
        self.families.insert(family, Some(refresh.clone()));
        let (_, name, _) = users(user).unwrap_or(("", "?", ""));
        let iat = now();
        let claims = Claims {
            sub: user.to_owned(),
            name: name.to_owned(),
            iat,
            exp: iat + self.access_lifetime.as_secs(),
            generation: self.generation,
        };
        let access = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .expect("sign");
        let cookie = Cookie::build((COOKIE, refresh))
            .http_only(true)
            .same_site(SameSite::Strict)
            .path("/auth")
            .build();
        let body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_lifetime.as_secs(),
        });
        (jar.add(cookie), Json(body)).into_response()
    }
}

fn rand_suffix(n: u64) -> u64 {
    // Not a secret in a test backend; distinct per token.
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ now()
}

async fn token(
    State(backend): State<Shared>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut b = backend.lock().expect("backend");
    if !b.csrf_ok(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let user = form.get("username").cloned().unwrap_or_default();
    let right = form.get("grant_type").map(String::as_str) == Some("password")
        && users(&user).is_some_and(|(password, _, _)| {
            form.get("password").map(String::as_str) == Some(password)
        });
    if !right {
        b.stats.refusals += 1;
        return invalid_grant(jar, "Wrong username or password.");
    }
    b.stats.sign_ins += 1;
    b.next += 1;
    let family = b.next;
    b.issue(family, &user, jar)
}

async fn refresh(State(backend): State<Shared>, headers: HeaderMap, jar: CookieJar) -> Response {
    let mut b = backend.lock().expect("backend");
    if !b.csrf_ok(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    b.stats.refresh_requests += 1;
    let presented = jar.get(COOKIE).map(|c| c.value().to_owned());
    let Some((family, user)) = presented.as_ref().and_then(|t| b.tokens.get(t).cloned()) else {
        b.stats.refusals += 1;
        return invalid_grant(jar, "No refresh token.");
    };
    match b.families.get(&family).cloned().flatten() {
        Some(current) if Some(&current) == presented.as_ref() => {
            b.stats.rotations += 1;
            b.issue(family, &user, jar)
        }
        Some(_) => {
            // An older token of a live family: stolen or replayed. End the family.
            b.stats.reuse_detected += 1;
            b.stats.refusals += 1;
            b.families.insert(family, None);
            invalid_grant(jar, "Refresh token reused.")
        }
        None => {
            b.stats.refusals += 1;
            invalid_grant(jar, "The session has ended.")
        }
    }
}

async fn logout(State(backend): State<Shared>, headers: HeaderMap, jar: CookieJar) -> Response {
    let mut b = backend.lock().expect("backend");
    if !b.csrf_ok(&headers) {
        return StatusCode::FORBIDDEN.into_response();
    }
    b.stats.logouts += 1;
    if let Some((family, _)) = jar
        .get(COOKIE)
        .and_then(|c| b.tokens.get(c.value()).cloned())
    {
        b.families.insert(family, None);
    }
    (StatusCode::NO_CONTENT, jar.remove(removal())).into_response()
}

async fn profile(State(backend): State<Shared>, headers: HeaderMap) -> Response {
    let mut b = backend.lock().expect("backend");
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let claims = bearer
        .and_then(|t| decode::<Claims>(t, &DecodingKey::from_secret(SECRET), &validation).ok())
        .map(|d| d.claims)
        .filter(|c| c.generation == b.generation);
    match claims.and_then(|c| users(&c.sub).map(|u| (c, u))) {
        Some((_, (_, name, email))) => {
            b.stats.profiles_served += 1;
            Json(json!({"name": name, "email": email})).into_response()
        }
        None => {
            b.stats.profiles_refused += 1;
            let body = json!({"detail": "Token is invalid or expired", "code": "token_not_valid"});
            (StatusCode::UNAUTHORIZED, Json(body)).into_response()
        }
    }
}

/// The built example app (`scripts/build-examples.sh`).
pub fn app_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("TOKENPAIR_EXAMPLE_DIST") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("../target"));
    target.join("examples-dist").join("third_party_app")
}

/// The backend, on a free loopback port, stopped when dropped.
pub struct ThirdParty {
    port: u16,
    backend: Shared,
    stop: Option<oneshot::Sender<()>>,
}

impl ThirdParty {
    /// Starts the backend; access tokens live `access_lifetime`.
    pub async fn start(access_lifetime: Duration) -> ThirdParty {
        let dir = app_dir();
        assert!(
            dir.join("app_bg.wasm").exists(),
            "no built example app in {} — run `make test` (scripts/build-examples.sh builds it)",
            dir.display()
        );
        let backend: Shared = Arc::new(Mutex::new(Backend {
            access_lifetime,
            ..Backend::default()
        }));
        let files = tower_http::services::ServeDir::new(&dir);
        let app = Router::new()
            .route("/auth/token", post(token))
            .route("/auth/token/refresh", post(refresh))
            .route("/auth/logout", post(logout))
            .route("/api/profile", get(profile))
            // A page under /auth, where WebDriver can list the refresh cookie.
            .route("/auth/", get(|| async { "the cookie endpoints live here" }))
            .fallback_service(files)
            .with_state(backend.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        ThirdParty {
            port,
            backend,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// What it saw so far.
    pub fn stats(&self) -> Stats {
        self.backend.lock().expect("backend").stats.clone()
    }

    /// Every access token issued so far is refused from now on (as after a key rotation).
    pub fn expire_access_tokens(&self) {
        self.backend.lock().expect("backend").generation += 1;
    }

    /// Every refresh token dies (as when an administrator ends every session).
    pub fn kill_refresh_tokens(&self) {
        let mut b = self.backend.lock().expect("backend");
        for current in b.families.values_mut() {
            *current = None;
        }
    }
}

impl Drop for ThirdParty {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
