//! A fake tokenpair server inside the test page, behind the client's `Transport` trait.
//!
//! It rotates refresh tokens like the real one: each token is single-use; presenting the
//! immediate predecessor within the grace window answers with the current state; presenting
//! anything older (or the predecessor after the grace window) is reuse and revokes the whole
//! family. The "browser cookie jar" is one value shared by every client (tab) of the page, read
//! when a request is sent and written when its answer arrives — so a lost answer leaves the
//! old cookie behind, exactly as in a browser.
//!
//! Faults: each endpoint can hang, answer a status (with `Retry-After`), fail at the network
//! level, or act and then lose its answer.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use tokenpair_api::{paths, TokenResponse, UserSummary};
use tokenpair_client::{
    Backoff, ClientConfig, Method, Request, Response, TokenClient, TokenpairProtocol, Transport,
    TransportError,
};

/// A client for the fake server (tokenpair's protocol).
pub type Client = TokenClient<TokenpairProtocol>;

/// The path of an absolute URL (the client sends absolute URLs, the query apart).
pub fn path_of(url: &str) -> String {
    match web_sys::Url::new(url) {
        Ok(u) => u.pathname(),
        Err(_) => url.to_owned(),
    }
}

/// The path and query of a request, as a server sees them (`/api/auth/logout?scope=global`).
pub fn target_of(request: &Request) -> String {
    let params = web_sys::UrlSearchParams::new().unwrap();
    for (name, value) in &request.query {
        params.append(name, value);
    }
    let query = String::from(params.to_string());
    let path = path_of(&request.url);
    if query.is_empty() {
        path
    } else {
        [path.as_str(), "?", &query].concat()
    }
}

/// What an endpoint does with the next requests.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Behave normally.
    None,
    /// Never answer.
    Hang,
    /// Answer this status with a JSON error body and an optional `Retry-After`.
    Status {
        status: u16,
        code: &'static str,
        retry_after: Option<u32>,
    },
    /// No HTTP answer at all (connection refused or reset).
    Network,
    /// Do the work, then lose the answer (the cookie update never reaches the browser).
    LoseAnswer,
}

#[derive(Clone, Debug)]
struct Family {
    user: UserSummary,
    session_id: String,
    /// The current refresh token and the generation number it has.
    current: String,
    generation: u32,
    /// The immediate predecessor and when it was rotated (grace window).
    previous: Option<(String, f64)>,
    /// Every token this family ever issued (to detect reuse of older ones).
    issued: Vec<String>,
    revoked: bool,
    last_access: String,
    /// When the family began (`Date.now()` ms): its absolute end is `absolute_s` later.
    started: f64,
}

#[derive(Default)]
pub struct Counters {
    pub refresh_requests: u32,
    pub rotations: u32,
    pub grace_answers: u32,
    pub reuse_detected: u32,
    pub me_requests: u32,
    pub me_401: u32,
    pub logout_requests: u32,
    /// Logouts the server carried out (answered 204).
    pub logout_done: u32,
    pub login_requests: u32,
    pub health_requests: u32,
    /// Requests for the paginated test list (`/api/pages`).
    pub page_requests: u32,
}

pub struct ServerState {
    /// The browser's refresh cookie (shared by all tabs of the page).
    pub jar: Option<String>,
    families: Vec<Family>,
    /// Access token → (session id, expiry in ms of `Date.now()`).
    access: HashMap<String, (String, f64)>,
    pub faults: HashMap<&'static str, Fault>,
    pub counters: Counters,
    pub access_lifetime_s: u64,
    /// The session's idle timeout and absolute lifetime (seconds), told in token responses.
    pub idle_s: Option<u64>,
    pub absolute_s: Option<u64>,
    pub grace_ms: f64,
    pub latency_ms: u32,
    /// Latency for one path (instead of `latency_ms`), each way.
    pub latency_for: HashMap<String, u32>,
    /// Work out the answer when the request arrives, before any latency (a server whose
    /// answer was on its way back while the browser changed users).
    pub decide_on_arrival: bool,
    /// Every URL requested, with the access token it carried.
    pub sent: Vec<(String, Option<String>)>,
    next_id: u32,
    /// Users by name: (id, password).
    users: HashMap<String, (i64, String)>,
    /// In-flight hung requests (so tests can see them).
    pub hung: u32,
    /// Every request by path (without the query), faulty or not: when it arrived (ms).
    pub arrivals: HashMap<String, Vec<f64>>,
    in_flight: HashMap<String, u32>,
    /// The most requests to one path in flight at the same time.
    pub max_in_flight: HashMap<String, u32>,
}

/// Decrements the in-flight count of a path when the request ends or is abandoned.
struct InFlight(Rc<RefCell<ServerState>>, String);

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.try_borrow_mut() {
            if let Some(n) = s.in_flight.get_mut(&self.1) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

#[derive(Clone)]
pub struct FakeServer(pub Rc<RefCell<ServerState>>);

fn now() -> f64 {
    js_sys::Date::now()
}

fn error(status: u16, code: &str, retry_after: Option<u32>) -> Response {
    let body = serde_json::json!({ "error": code, "message": format!("fake: {code}") });
    let response = Response::new(status, body.to_string());
    match retry_after {
        Some(s) => response.with_header("retry-after", &s.to_string()),
        None => response,
    }
}

impl FakeServer {
    pub fn new() -> FakeServer {
        let mut users = HashMap::new();
        users.insert("user1".to_owned(), (1, "password1".to_owned()));
        users.insert("user2".to_owned(), (2, "password2".to_owned()));
        FakeServer(Rc::new(RefCell::new(ServerState {
            jar: None,
            families: Vec::new(),
            access: HashMap::new(),
            faults: HashMap::new(),
            counters: Counters::default(),
            access_lifetime_s: 300,
            idle_s: None,
            absolute_s: None,
            grace_ms: 10_000.0,
            latency_ms: 5,
            latency_for: HashMap::new(),
            decide_on_arrival: false,
            sent: Vec::new(),
            next_id: 0,
            users,
            hung: 0,
            arrivals: HashMap::new(),
            in_flight: HashMap::new(),
            max_in_flight: HashMap::new(),
        })))
    }

    /// A server with an existing sign-in of `user1` whose cookie is in the jar.
    pub fn with_session(access_lifetime_s: u64) -> FakeServer {
        let server = FakeServer::new();
        server.0.borrow_mut().access_lifetime_s = access_lifetime_s;
        server.0.borrow_mut().start_family(1, "user1");
        server
    }

    /// A sign-in by a tab this test's clients do not hear: a new family whose cookie replaces
    /// the jar's.
    pub fn sign_in_elsewhere(&self, user_id: i64, username: &str) {
        self.0.borrow_mut().start_family(user_id, username);
    }

    /// Answers on `path` take `ms` milliseconds each way.
    pub fn set_latency(&self, path: &str, ms: u32) {
        self.0.borrow_mut().latency_for.insert(path.to_owned(), ms);
    }

    /// Every URL requested so far.
    pub fn urls(&self) -> Vec<String> {
        self.0
            .borrow()
            .sent
            .iter()
            .map(|(u, _)| u.clone())
            .collect()
    }

    /// The access token sent with the request to `url`, if that URL was requested.
    pub fn bearer_sent_to(&self, url: &str) -> Option<Option<String>> {
        self.0
            .borrow()
            .sent
            .iter()
            .find(|(u, _)| u == url)
            .map(|(_, b)| b.clone())
    }

    pub fn set_fault(&self, path: &'static str, fault: Fault) {
        self.0.borrow_mut().faults.insert(path, fault);
    }

    pub fn clear_faults(&self) {
        self.0.borrow_mut().faults.clear();
    }

    pub fn counters<T>(&self, f: impl FnOnce(&Counters) -> T) -> T {
        f(&self.0.borrow().counters)
    }

    /// Makes every access token issued so far unacceptable (as after a key rotation).
    pub fn forget_access_tokens(&self) {
        self.0.borrow_mut().access.clear();
    }

    /// Whether the family of the cookie in the jar is alive.
    pub fn jar_session_alive(&self) -> bool {
        let s = self.0.borrow();
        let Some(jar) = &s.jar else { return false };
        s.families.iter().any(|f| !f.revoked && (f.current == *jar))
    }

    pub fn live_families(&self) -> usize {
        self.0
            .borrow()
            .families
            .iter()
            .filter(|f| !f.revoked)
            .count()
    }

    /// How many requests reached `path` (faulty ones included).
    pub fn requests(&self, path: &str) -> usize {
        self.0.borrow().arrivals.get(path).map_or(0, Vec::len)
    }

    /// When the requests to `path` arrived (ms, `Date.now()`).
    pub fn arrivals(&self, path: &str) -> Vec<f64> {
        self.0
            .borrow()
            .arrivals
            .get(path)
            .cloned()
            .unwrap_or_default()
    }

    /// The most requests to `path` that were in flight at once.
    pub fn max_in_flight(&self, path: &str) -> u32 {
        self.0
            .borrow()
            .max_in_flight
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn transport(&self) -> Rc<dyn Transport> {
        Rc::new(self.clone())
    }
}

impl ServerState {
    fn new_token(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }

    fn start_family(&mut self, user_id: i64, username: &str) -> usize {
        let refresh = self.new_token("rt");
        let session_id = self.new_token("sid");
        let access = self.new_token("at");
        self.access.insert(
            access.clone(),
            (
                session_id.clone(),
                now() + self.access_lifetime_s as f64 * 1000.0,
            ),
        );
        self.families.push(Family {
            user: UserSummary {
                id: user_id,
                username: username.to_owned(),
            },
            session_id,
            current: refresh.clone(),
            generation: 0,
            previous: None,
            issued: vec![refresh.clone()],
            revoked: false,
            last_access: access,
            started: now(),
        });
        self.jar = Some(refresh);
        self.families.len() - 1
    }

    fn token_response(&mut self, family: usize) -> TokenResponse {
        let f = &self.families[family];
        TokenResponse {
            access_token: f.last_access.clone(),
            token_type: "Bearer".into(),
            expires_in: self.access_lifetime_s,
            session_id: f.session_id.clone(),
            idle_expires_in: self.idle_s,
            // The absolute end does not move: what is left of it.
            session_expires_in: self.absolute_s.map(|a| {
                ((a as f64 * 1000.0 - (now() - f.started)).max(0.0) / 1000.0).ceil() as u64
            }),
            user: f.user.clone(),
        }
    }

    /// `POST /api/auth/refresh` with `cookie`: (answer, new cookie value to set).
    fn refresh(&mut self, cookie: Option<String>) -> (Response, Option<Option<String>>) {
        self.counters.refresh_requests += 1;
        let Some(cookie) = cookie else {
            return (error(401, "invalid_refresh_token", None), Some(None));
        };
        let Some(index) = self
            .families
            .iter()
            .position(|f| f.issued.contains(&cookie))
        else {
            return (error(401, "invalid_refresh_token", None), Some(None));
        };
        if self.families[index].revoked {
            return (error(401, "invalid_refresh_token", None), Some(None));
        }
        let started = self.families[index].started;
        if self
            .absolute_s
            .is_some_and(|a| now() - started > a as f64 * 1000.0)
        {
            return (error(401, "session_expired", None), Some(None));
        }
        let family = &self.families[index];
        if family.current == cookie {
            // Rotate.
            let next = self.new_token("rt");
            let access = self.new_token("at");
            let lifetime = self.access_lifetime_s as f64 * 1000.0;
            let f = &mut self.families[index];
            f.previous = Some((cookie, now()));
            f.current = next.clone();
            f.generation += 1;
            f.issued.push(next.clone());
            f.last_access = access.clone();
            let sid = f.session_id.clone();
            self.access.insert(access, (sid, now() + lifetime));
            self.counters.rotations += 1;
            let body = self.token_response(index);
            return (
                Response::new(200, serde_json::to_string(&body).unwrap()),
                Some(Some(next)),
            );
        }
        if let Some((previous, at)) = &family.previous {
            if *previous == cookie && now() - at <= self.grace_ms {
                self.counters.grace_answers += 1;
                let current = family.current.clone();
                let body = self.token_response(index);
                return (
                    Response::new(200, serde_json::to_string(&body).unwrap()),
                    Some(Some(current)),
                );
            }
        }
        // Reuse of an older token: the whole family ends.
        self.counters.reuse_detected += 1;
        self.families[index].revoked = true;
        (error(401, "refresh_token_reused", None), Some(None))
    }

    fn me(&mut self, bearer: Option<&str>) -> Response {
        self.counters.me_requests += 1;
        let ok = bearer
            .and_then(|b| self.access.get(b))
            .filter(|(sid, exp)| {
                *exp > now()
                    && self
                        .families
                        .iter()
                        .any(|f| &f.session_id == sid && !f.revoked)
            })
            .map(|(sid, _)| sid.clone());
        match ok.and_then(|sid| self.families.iter().find(|f| f.session_id == sid)) {
            Some(f) => Response::new(
                200,
                serde_json::json!({ "id": f.user.id, "username": f.user.username, "created_at": "2026-01-01T00:00:00Z" })
                    .to_string(),
            ),
            None => {
                self.counters.me_401 += 1;
                error(401, "invalid_token", None)
            }
        }
    }

    fn login(&mut self, body: Option<String>) -> (Response, Option<Option<String>>) {
        self.counters.login_requests += 1;
        let creds: tokenpair_api::Credentials =
            match body.and_then(|b| serde_json::from_str(&b).ok()) {
                Some(c) => c,
                None => return (error(400, "bad_request", None), None),
            };
        match self.users.get(&creds.username).cloned() {
            Some((id, password)) if password == creds.password => {
                // A sign-in ends the session whose cookie the browser still held.
                if let Some(jar) = self.jar.clone() {
                    if let Some(f) = self.families.iter_mut().find(|f| f.issued.contains(&jar)) {
                        f.revoked = true;
                    }
                }
                let index = self.start_family(id, &creds.username);
                let cookie = self.jar.clone();
                let body = self.token_response(index);
                (
                    Response::new(200, serde_json::to_string(&body).unwrap()),
                    Some(cookie),
                )
            }
            _ => (error(401, "invalid_credentials", None), None),
        }
    }

    fn logout(
        &mut self,
        cookie: Option<String>,
        everywhere: bool,
    ) -> (Response, Option<Option<String>>) {
        self.counters.logout_requests += 1;
        self.counters.logout_done += 1;
        if let Some(cookie) = cookie {
            let user = self
                .families
                .iter()
                .find(|f| f.issued.contains(&cookie))
                .map(|f| f.user.id);
            for f in self.families.iter_mut() {
                if f.issued.contains(&cookie) || (everywhere && Some(f.user.id) == user) {
                    f.revoked = true;
                }
            }
        }
        (Response::new(204, ""), Some(None))
    }
}

impl Transport for FakeServer {
    fn send(&self, request: Request) -> LocalBoxFuture<'static, Result<Response, TransportError>> {
        let server = self.0.clone();
        async move {
            let path = target_of(&request);
            let key = path.split('?').next().unwrap_or("").to_owned();
            let _in_flight = {
                let mut s = server.borrow_mut();
                s.arrivals.entry(key.clone()).or_default().push(now());
                s.sent
                    .push((request.url.clone(), request.bearer().map(str::to_owned)));
                let n = s.in_flight.entry(key.clone()).or_default();
                *n += 1;
                let n = *n;
                let max = s.max_in_flight.entry(key.clone()).or_default();
                *max = (*max).max(n);
                InFlight(server.clone(), key.clone())
            };
            let (latency, fault, cookie) = {
                let s = server.borrow();
                let fault = s
                    .faults
                    .iter()
                    .find(|(p, _)| **p == key.as_str())
                    .map(|(_, f)| f.clone())
                    .unwrap_or(Fault::None);
                let latency = s.latency_for.get(&key).copied().unwrap_or(s.latency_ms);
                (latency, fault, s.jar.clone())
            };
            let decide_on_arrival = server.borrow().decide_on_arrival;
            if !decide_on_arrival {
                TimeoutFuture::new(latency).await;
            }
            match &fault {
                Fault::Hang => {
                    server.borrow_mut().hung += 1;
                    futures::future::pending::<()>().await;
                }
                Fault::Network => {
                    return Err(TransportError::Network("fake: connection reset".into()))
                }
                Fault::Status {
                    status,
                    code,
                    retry_after,
                } => {
                    if key == paths::REFRESH {
                        server.borrow_mut().counters.refresh_requests += 1;
                    }
                    if path.starts_with(paths::LOGOUT) {
                        server.borrow_mut().counters.logout_requests += 1;
                    }
                    if path == "/api/health" {
                        server.borrow_mut().counters.health_requests += 1;
                    }
                    return Ok(error(*status, code, *retry_after));
                }
                _ => {}
            }
            let (response, set_cookie) = {
                let mut s = server.borrow_mut();
                match (request.method, path.as_str()) {
                    (Method::Post, paths::REFRESH_OPTIONAL) if cookie.is_none() => {
                        s.counters.refresh_requests += 1;
                        (Response::new(204, ""), None)
                    }
                    (Method::Post, paths::REFRESH | paths::REFRESH_OPTIONAL) => s.refresh(cookie),
                    (Method::Post, paths::LOGIN) => s.login(request.body_text()),
                    (Method::Post, paths::LOGOUT) => s.logout(cookie, false),
                    (Method::Post, paths::LOGOUT_GLOBAL) => s.logout(cookie, true),
                    (Method::Get, paths::ME) => (s.me(request.bearer()), None),
                    // A paginated list: items 1–5, two per page, linked by `rel="next"`.
                    (Method::Get, path) if path.starts_with("/api/pages") => {
                        let page: u32 = path
                            .split("page=")
                            .nth(1)
                            .and_then(|p| p.parse().ok())
                            .unwrap_or(0);
                        let items: Vec<u32> = (page * 2 + 1..=(page * 2 + 2).min(5)).collect();
                        let mut response =
                            Response::new(200, serde_json::to_string(&items).unwrap_or_default());
                        if page < 2 {
                            let next = format!("</api/pages?page={}>; rel=\"next\"", page + 1);
                            response = response.with_header("link", &next);
                        }
                        s.counters.page_requests += 1;
                        (response, None)
                    }
                    // One page whose next link leaves the origin.
                    (Method::Get, "/api/away-pages") => {
                        s.counters.page_requests += 1;
                        let away = "<https://evil.example/api/pages?page=1>; rel=\"next\"";
                        (Response::new(200, "[1]").with_header("link", away), None)
                    }
                    (Method::Get, "/api/health") => {
                        s.counters.health_requests += 1;
                        (Response::new(200, "{\"status\":\"ok\"}"), None)
                    }
                    _ => (error(404, "not_found", None), None),
                }
            };
            if decide_on_arrival {
                TimeoutFuture::new(latency).await;
            }
            TimeoutFuture::new(latency).await;
            if fault == Fault::LoseAnswer {
                return Err(TransportError::Network("fake: answer lost".into()));
            }
            if let Some(value) = set_cookie {
                server.borrow_mut().jar = value;
            }
            Ok(response)
        }
        .boxed_local()
    }
}

/// A configuration for tests: its own lock, channel and storage names (from the app id `test-{name}`:
/// tests do not hear each other), fast backoff, short deadlines, no refresh jitter, no wake
/// detector.
pub fn config(name: &str) -> ClientConfig {
    ClientConfig::builder(&format!("test-{name}"))
        .request_timeout(std::time::Duration::from_millis(500))
        .lock_timeout(std::time::Duration::from_millis(800))
        .backoff(Backoff::new(
            std::time::Duration::from_millis(50),
            2.0,
            std::time::Duration::from_millis(400),
            0.5,
        ))
        .refresh_jitter(std::time::Duration::ZERO)
        .wake_check_every(std::time::Duration::ZERO)
        .build()
}

/// A client of tokenpair's protocol over `server` (not started).
pub fn client(server: &FakeServer, cfg: ClientConfig) -> Client {
    TokenClient::with_transport(TokenpairProtocol::new(), cfg, server.transport())
}

/// A started client over `server` whose restore has finished (signed in or not).
pub async fn started(server: &FakeServer, cfg: ClientConfig) -> Client {
    let client = client(server, cfg);
    client.start();
    let store = client.store();
    eventually(2_000, "the restore answered", || {
        store.signed_in().is_some()
    })
    .await;
    eventually(1_000, "the restore finished", || !client.is_refreshing()).await;
    client
}

/// A started client that restored the server's session.
pub async fn signed_in(server: &FakeServer, cfg: ClientConfig) -> Client {
    let client = started(server, cfg).await;
    assert_eq!(
        client.store().signed_in(),
        Some(true),
        "the session is restored"
    );
    client
}

/// Sleeps `ms` milliseconds.
pub async fn sleep(ms: u32) {
    TimeoutFuture::new(ms).await;
}

/// Polls `f` every 10 ms until it is true, or panics with `what` after `timeout_ms`.
pub async fn eventually(timeout_ms: u32, what: &str, mut f: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while !f() {
        assert!(
            js_sys::Date::now() - start < f64::from(timeout_ms),
            "timed out after {timeout_ms} ms waiting for: {what}"
        );
        sleep(10).await;
    }
}
