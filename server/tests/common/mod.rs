//! The harness of the integration tests: the real server (the library's `serve`, the real
//! router, a real SQLite file in a temporary directory) on 127.0.0.1, and helpers to talk to it
//! with plain reqwest — cookies are handled by hand so tests can assert exact `Set-Cookie`s.
//!
//! Argon2 is slow in a debug build (~0.5 s per hash), so the harness avoids hashes that are not
//! what a test is about: the demo accounts are written with hashes computed once (the server then
//! skips its own seeding, exactly as on a second start), and [`TestServer::session`] starts a
//! session through the server's own `Sessions`/`AccessTokens` instead of a password login.
//! Tests about sign-in use the real `POST /api/auth/login`.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use reqwest::header::{self, HeaderMap};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokenpair_server::{AppState, Config, StartupError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The access-token key of every test server (forged tokens are signed with it).
pub const SECRET: &[u8] = b"integration-tests-only-secret-0123456789-abcdefgh";
pub const XRW: (&str, &str) = ("x-requested-with", "XMLHttpRequest");
pub const USER1: (&str, &str) = ("user1", "password1");
pub const USER2: (&str, &str) = ("user2", "password2");
pub const USER1_ID: i64 = 1;
pub const USER2_ID: i64 = 2;

/// Argon2id PHC strings of `password1` and `password2` (made by the server's own
/// `hash_blocking`), so a test server does not spend two debug-build Argon2 runs seeding them.
const DEMO_HASHES: [(&str, &str); 2] = [
    ("user1", "$argon2id$v=19$m=19456,t=2,p=1$NxCOVR4GHZAgfcgjtU+B1g$pTNVRr+gJ46xxCjpdCTOr0rY9WOB0bpONPi+56yifAU"),
    ("user2", "$argon2id$v=19$m=19456,t=2,p=1$YG2RcwF6i7PFreE2cmLG0A$JHSaW5RHK8+zDXsraHYMhr8MWiZo1zXNkSZ+Fz05gj0"),
];

/// A running server. Dropping it shuts the server down.
pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub config: Config,
    pub state: AppState,
    pub client: Client,
    dir: Arc<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), StartupError>>>,
}

/// Starts a server with the test defaults (`Config::for_tests` plus [`SECRET`]).
pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// Starts a server after `adjust` has changed the test defaults.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let (dir, config) = prepare(adjust);
    if config.demo_users {
        preseed(&config.database_path);
    }
    launch(config, dir).await
}

/// Like [`start_with`], but the server seeds the demo accounts itself (real Argon2 runs).
pub async fn start_fresh_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let (dir, config) = prepare(adjust);
    launch(config, dir).await
}

fn prepare(adjust: impl FnOnce(&mut Config)) -> (Arc<TempDir>, Config) {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = Config::for_tests(dir.path().join("tokenpair.db"));
    config.access_token_secret = Some(SECRET.to_vec());
    config.static_dir = dir.path().join("dist");
    adjust(&mut config);
    (dir, config)
}

/// Writes the demo accounts (with [`DEMO_HASHES`]) into the database at `db_path`.
pub fn preseed(db_path: &Path) {
    let db = tokenpair_server::db::Db::open(db_path).expect("open the test database");
    db.call_blocking(|c| {
        for (name, hash) in DEMO_HASHES {
            c.execute(
                "INSERT OR IGNORE INTO users (username, password_hash, created_at) VALUES (?1, ?2, ?3)",
                rusqlite::params![name, hash, tokenpair_server::db::now_ms()],
            )?;
        }
        Ok(())
    })
    .expect("seed the demo accounts");
}

async fn launch(config: Config, dir: Arc<TempDir>) -> TestServer {
    let for_state = config.clone();
    let state = tokio::task::spawn_blocking(move || AppState::new(for_state))
        .await
        .expect("state task")
        .expect("the server starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(tokenpair_server::serve(
        listener,
        state.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    TestServer {
        base: format!("http://{addr}"),
        addr,
        config,
        state,
        client: client(),
        dir,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// A client without a cookie store and without redirects: tests see exactly what the server sent.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

impl TestServer {
    pub fn db_path(&self) -> &Path {
        &self.config.database_path
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server (graceful shutdown, waited for).
    pub async fn stop(mut self) -> (Config, Arc<TempDir>) {
        self.shutdown_and_wait().await;
        (self.config.clone(), self.dir.clone())
    }

    async fn shutdown_and_wait(&mut self) {
        // Idle keep-alive connections of our client would otherwise hold the graceful shutdown.
        self.client = client();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(joined) => joined.expect("server task").expect("server ended cleanly"),
                Err(_) => panic!("the server did not shut down within 10 s"),
            }
        }
    }

    /// Stops the server and starts a new one on the same database file, with the same config
    /// after `adjust`.
    pub async fn restart_with(self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let (mut config, dir) = self.stop().await;
        adjust(&mut config);
        launch(config, dir).await
    }

    pub async fn restart(self) -> TestServer {
        self.restart_with(|_| {}).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    /// `GET path` with `Authorization: Bearer <access>`.
    pub fn get_bearer(&self, path: &str, access: &str) -> RequestBuilder {
        self.get(path).bearer_auth(access)
    }

    /// A POST to a cookie endpoint, with the CSRF header it needs.
    pub fn auth_post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path)).header(XRW.0, XRW.1)
    }

    pub async fn try_login(&self, username: &str, password: &str) -> Response {
        self.auth_post("/api/auth/login")
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    /// A real sign-in that must succeed.
    pub async fn login(&self, (username, password): (&str, &str)) -> Tokens {
        let response = self.try_login(username, password).await;
        granted(response, StatusCode::OK).await.tokens
    }

    pub async fn try_register(&self, username: &str, password: &str) -> Response {
        self.auth_post("/api/auth/register")
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("register request")
    }

    /// `POST /api/auth/refresh` with `refresh_token=<cookie>`.
    pub async fn refresh(&self, cookie: &str) -> Response {
        self.auth_post("/api/auth/refresh")
            .header(header::COOKIE, format!("refresh_token={cookie}"))
            .send()
            .await
            .expect("refresh request")
    }

    /// A refresh that must succeed; returns the rotated tokens.
    pub async fn refresh_ok(&self, cookie: &str) -> Tokens {
        granted(self.refresh(cookie).await, StatusCode::OK)
            .await
            .tokens
    }

    pub async fn logout(&self, cookie: &str) -> Response {
        self.auth_post("/api/auth/logout")
            .header(header::COOKIE, format!("refresh_token={cookie}"))
            .send()
            .await
            .expect("logout request")
    }

    pub async fn me(&self, access: &str) -> Response {
        self.get_bearer("/api/me", access)
            .send()
            .await
            .expect("me request")
    }

    /// Asserts that `access` opens `/api/me` as `user_id`.
    pub async fn assert_access_works(&self, access: &str, user_id: i64) {
        let response = self.me(access).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "GET /api/me with a good token"
        );
        let me: Value = response.json().await.expect("me json");
        assert_eq!(me["id"], json!(user_id));
    }

    /// A session started through the server's own session store and token issuer (what a
    /// login does after the password check), without the cost of an Argon2 run.
    pub async fn session(&self, user_id: i64) -> Tokens {
        let username = if user_id == USER1_ID {
            "user1"
        } else {
            "user2"
        };
        let grant = self
            .state
            .sessions
            .start(user_id, username.into(), Some("integration-test".into()))
            .await
            .expect("start a session");
        let not_after = u64::try_from(grant.expires_at / 1000).expect("positive");
        let issued = self
            .state
            .tokens
            .issue(user_id, &grant.session_id, not_after)
            .expect("issue an access token");
        Tokens {
            access: issued.token,
            refresh: grant.refresh_token.0,
            sid: grant.session_id,
            user_id,
        }
    }

    /// A read-only view of the server's database file.
    pub fn db(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(self.db_path()).expect("open the database");
        c.busy_timeout(Duration::from_secs(5))
            .expect("busy timeout");
        c
    }

    /// `(generation)` of every refresh token of a session, ascending.
    pub fn generations(&self, sid: &str) -> Vec<i64> {
        let c = self.db();
        let mut stmt = c
            .prepare(
                "SELECT generation FROM refresh_tokens WHERE session_id = ?1 ORDER BY generation",
            )
            .expect("prepare");
        let rows = stmt.query_map([sid], |r| r.get(0)).expect("query");
        rows.collect::<Result<_, _>>().expect("rows")
    }

    pub fn revoked_reason(&self, sid: &str) -> Option<String> {
        self.db()
            .query_row(
                "SELECT revoked_reason FROM sessions WHERE id = ?1",
                [sid],
                |r| r.get(0),
            )
            .expect("session row")
    }

    /// Sends raw bytes on a new connection (for requests reqwest will not build) and returns
    /// the status code and the whole response text.
    pub async fn raw(&self, request: &[u8]) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        stream.write_all(request).await.expect("write");
        let mut buf = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
        read.expect("the server answers and closes").expect("read");
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        (status, text)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// What a client holds after a sign-in or a refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    /// The refresh token (the cookie value).
    pub refresh: String,
    pub sid: String,
    pub user_id: i64,
}

/// A successful token response, taken apart.
pub struct Granted {
    pub tokens: Tokens,
    pub cookie: SetCookie,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// Asserts a token response with `status` and takes it apart.
pub async fn granted(response: Response, status: StatusCode) -> Granted {
    let got = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "expected a token response, got {got}: {text}");
    let body: Value = serde_json::from_str(&text).expect("token response is JSON");
    let cookie = the_refresh_cookie(&headers);
    let access = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let claims = claims_of(&access);
    let tokens = Tokens {
        sid: claims["sid"].as_str().expect("sid claim").to_owned(),
        user_id: body["user"]["id"].as_i64().expect("user.id"),
        access,
        refresh: cookie.value.clone(),
    };
    Granted {
        tokens,
        cookie,
        headers,
        body,
        text,
    }
}

/// One `Set-Cookie` header, parsed just enough to assert on every attribute.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub raw: String,
    pub name: String,
    pub value: String,
    /// Attribute names as sent (e.g. `HttpOnly`, `Max-Age`) with their values.
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn parse(raw: &str) -> SetCookie {
        let mut parts = raw.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|nv| nv.split_once('='))
            .expect("name=value");
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (p.to_owned(), None),
            })
            .collect();
        SetCookie {
            raw: raw.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
            attrs,
        }
    }

    /// The attribute's value (`Some(None)` for a flag), case-insensitive on the name.
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn max_age(&self) -> i64 {
        self.attr("Max-Age")
            .flatten()
            .unwrap_or_else(|| panic!("no Max-Age in {}", self.raw))
            .parse()
            .expect("numeric Max-Age")
    }

    /// The attribute names, lower-cased and sorted.
    pub fn attr_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .attrs
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        names.sort();
        names
    }

    /// Asserts the attributes every refresh cookie (set or cleared) must carry, and nothing else
    /// besides `Max-Age`: `HttpOnly; Secure; SameSite=Strict; Path=/api/auth`, no `Domain`.
    pub fn assert_refresh_cookie_attributes(&self) {
        assert_eq!(self.name, "refresh_token", "{}", self.raw);
        assert_eq!(
            self.attr("HttpOnly"),
            Some(None),
            "HttpOnly flag: {}",
            self.raw
        );
        assert_eq!(self.attr("Secure"), Some(None), "Secure flag: {}", self.raw);
        assert_eq!(
            self.attr("SameSite"),
            Some(Some("Strict")),
            "SameSite=Strict: {}",
            self.raw
        );
        assert_eq!(
            self.attr("Path"),
            Some(Some("/api/auth")),
            "Path=/api/auth: {}",
            self.raw
        );
        assert_eq!(
            self.attr("Domain"),
            None,
            "no Domain (host-only): {}",
            self.raw
        );
        assert_eq!(
            self.attr_names(),
            ["httponly", "max-age", "path", "samesite", "secure"],
            "exactly these attributes: {}",
            self.raw
        );
    }

    /// Asserts this is the deletion of the refresh cookie.
    pub fn assert_clears_refresh_cookie(&self) {
        self.assert_refresh_cookie_attributes();
        assert_eq!(
            self.value, "",
            "a clearing cookie carries no value: {}",
            self.raw
        );
        assert_eq!(self.max_age(), 0, "{}", self.raw);
    }
}

/// Every `Set-Cookie` of a response.
pub fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| SetCookie::parse(v.to_str().expect("ASCII Set-Cookie")))
        .collect()
}

/// The one `Set-Cookie: refresh_token=…` of a response (asserts there is exactly one).
pub fn the_refresh_cookie(headers: &HeaderMap) -> SetCookie {
    let all = set_cookies(headers);
    assert_eq!(all.len(), 1, "exactly one Set-Cookie: {all:?}");
    all.into_iter().next().expect("one cookie")
}

/// A JSON error answer, taken apart.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub code: String,
    pub message: String,
    pub body: Value,
}

/// Asserts an error answer with `status` and `{ "error": code, "message": … }`.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> ApiError {
    let got = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "status (body: {text})");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "JSON error, got {content_type:?}: {text}"
    );
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON error body ({e}): {text}"));
    let obj = body.as_object().expect("an object");
    assert_eq!(obj.len(), 2, "exactly {{error, message}}: {text}");
    let message = body["message"]
        .as_str()
        .expect("message is a string")
        .to_owned();
    assert!(
        !message.trim().is_empty(),
        "a human-readable message: {text}"
    );
    assert_eq!(body["error"], json!(code), "error code: {text}");
    ApiError {
        status,
        headers,
        code: code.to_owned(),
        message,
        body,
    }
}

/// Asserts a 401 from a Bearer route: RFC 6750 challenge plus the JSON body.
pub async fn expect_invalid_token(response: Response) -> ApiError {
    let err = expect_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let challenge = err
        .headers
        .get(header::WWW_AUTHENTICATE)
        .expect("a 401 carries WWW-Authenticate")
        .to_str()
        .expect("ASCII challenge");
    assert!(
        challenge.starts_with("Bearer "),
        "Bearer challenge: {challenge}"
    );
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "error=\"invalid_token\": {challenge}"
    );
    err
}

/// Asserts a refused refresh: 401 `code`, and the response deletes the cookie.
pub async fn expect_refresh_refused(response: Response, code: &str) -> ApiError {
    let cookie = the_refresh_cookie(response.headers());
    cookie.assert_clears_refresh_cookie();
    let err = expect_error(response, StatusCode::UNAUTHORIZED, code).await;
    let challenge = err
        .headers
        .get(header::WWW_AUTHENTICATE)
        .expect("a 401 carries WWW-Authenticate");
    assert!(challenge.to_str().expect("ascii").starts_with("Bearer"));
    err
}

// ---- JWTs, built by hand so any header or claim can be forged ----

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The `kid` the server gives [`SECRET`].
pub fn kid() -> String {
    tokenpair_server::tokens::key_id(SECRET)
}

/// The header of a genuine access token.
pub fn good_header() -> Value {
    json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid() })
}

/// The claims of a genuine access token for `sid`/`user_id`, valid for 5 minutes.
pub fn good_claims(sid: &str, user_id: i64) -> Value {
    let now = now();
    json!({
        "iss": "tokenpair", "aud": "tokenpair-api", "sub": user_id.to_string(), "sid": sid,
        "jti": "forged-in-a-test", "iat": now, "exp": now + 300,
    })
}

/// `header.claims` base64url-encoded, without a signature.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

/// A JWT signed with HMAC-SHA256 under `key`, whatever `header` says.
pub fn sign_hs256(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

pub fn sign_hs384(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let mut mac = <Hmac<sha2::Sha384> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

pub fn sign_hs512(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let mut mac = <Hmac<sha2::Sha512> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

/// A genuine-looking token: good header, good claims, signed with [`SECRET`].
pub fn forge(sid: &str, user_id: i64) -> String {
    sign_hs256(&good_header(), &good_claims(sid, user_id), SECRET)
}

/// The decoded header of a JWT.
pub fn header_of(token: &str) -> Value {
    part_of(token, 0)
}

/// The decoded claims of a JWT.
pub fn claims_of(token: &str) -> Value {
    part_of(token, 1)
}

fn part_of(token: &str, i: usize) -> Value {
    let part = token.split('.').nth(i).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// Every file of the database (main file, WAL, shared memory), concatenated.
pub fn database_bytes(db_path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(p)) {
            all.extend(bytes);
        }
    }
    all
}

pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}
