//! Where the 401 retry happens: the one HTTP client every view uses.
//!
//! Read top-down:
//! 1. [`Client::send`] attaches `Authorization: Bearer <access token>` (from [`Session`]).
//! 2. On a 401 it calls [`Client::refresh`] — **single flight**: concurrent 401s, and requests
//!    started while a refresh runs, all await the same refresh — then retries the original
//!    request **once** with the new token. A second 401 is returned as an error: no loop.
//! 3. [`Client::refresh`] takes a Web Lock so tabs refresh one at a time, re-checks whether
//!    another tab already refreshed, posts to `/api/auth/refresh` (the HttpOnly cookie goes
//!    along by itself), and discards the answer if the session epoch changed meanwhile.
//!    A refused refresh signs out with "Your session ended — please sign in again".
//! 4. A network failure or a 5xx is *not* a sign-out: the session is kept, a banner says the
//!    server is unreachable, and a probe retries until it answers.
//! 5. The auth endpoints themselves (login, register, refresh, logout) never go through the
//!    refresh-and-retry path.
//!
//! The network sits behind the [`Transport`] trait so all of this is tested with a fake.

use std::cell::RefCell;
use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use gloo_timers::callback::{Interval, Timeout};
use serde::de::DeserializeOwned;
use tokenpair_api::{paths, Credentials, ErrorBody, TokenResponse, CSRF_HEADER, CSRF_HEADER_VALUE};

use crate::session::{now_ms, EventKind, Session, SESSION_ENDED};
use crate::tabs::{self, Channel, TabMessage};

// ---------------------------------------------------------------- transport

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// A request as data, so the client can send it again after a refresh.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    pub path: String,
    pub bearer: Option<String>,
    pub json_body: Option<String>,
}

impl HttpRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        HttpRequest {
            method,
            path: path.into(),
            bearer: None,
            json_body: None,
        }
    }

    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }

    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::Post, path)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::Delete, path)
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        self.json_body = crate::json::to_string(body);
        self
    }

    /// Requests to `/api/auth/*` authenticate with the cookie; they are never intercepted.
    pub fn is_auth_endpoint(&self) -> bool {
        self.path.starts_with(paths::AUTH_PREFIX)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// The request never got an HTTP answer (server down, connection refused, offline).
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkError(pub String);

pub trait Transport {
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, NetworkError>>;
}

/// The real transport: `fetch` through gloo-net, same origin, cookies included.
pub struct FetchTransport;

impl Transport for FetchTransport {
    fn send(&self, r: HttpRequest) -> LocalBoxFuture<'static, Result<HttpResponse, NetworkError>> {
        async move {
            use gloo_net::http::{Method as M, RequestBuilder};
            let method = match r.method {
                Method::Get => M::GET,
                Method::Post => M::POST,
                Method::Delete => M::DELETE,
            };
            let mut builder = RequestBuilder::new(&r.path)
                .method(method)
                .credentials(web_sys::RequestCredentials::SameOrigin)
                .header(CSRF_HEADER, CSRF_HEADER_VALUE);
            if let Some(token) = &r.bearer {
                builder = builder.header("Authorization", &format!("Bearer {token}"));
            }
            let request = match r.json_body {
                Some(body) => builder
                    .header("Content-Type", "application/json")
                    .body(body),
                None => builder.build(),
            }
            .map_err(|e| NetworkError(e.to_string()))?;
            let response = request
                .send()
                .await
                .map_err(|e| NetworkError(e.to_string()))?;
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            Ok(HttpResponse { status, body })
        }
        .boxed_local()
    }
}

// ---------------------------------------------------------------- errors

#[derive(Clone, Debug, PartialEq)]
pub enum ClientError {
    /// Not signed in (or signed out while the request ran).
    SignedOut,
    /// The refresh was refused: the session is over.
    SessionEnded,
    /// No answer, or a 5xx: the session is kept and the banner is up.
    Unreachable,
    /// The server refused the request.
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// An answer the client could not read.
    BadResponse(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::SignedOut => f.write_str("You are signed out."),
            ClientError::SessionEnded => f.write_str(SESSION_ENDED),
            ClientError::Unreachable => f.write_str("Can't reach the server — retrying."),
            ClientError::Api { message, .. } => f.write_str(message),
            ClientError::BadResponse(why) => write!(f, "Unexpected answer from the server: {why}"),
        }
    }
}

fn api_error(response: &HttpResponse) -> ClientError {
    match crate::json::from_str::<ErrorBody>(&response.body) {
        Ok(body) => ClientError::Api {
            status: response.status,
            code: body.error,
            message: body.message,
        },
        Err(_) => ClientError::Api {
            status: response.status,
            code: "unknown".into(),
            message: format!("The server answered with status {}.", response.status),
        },
    }
}

fn parse<T: DeserializeOwned>(response: &HttpResponse) -> Result<T, ClientError> {
    crate::json::from_str(&response.body).map_err(ClientError::BadResponse)
}

// ---------------------------------------------------------------- the client

/// How a refresh ended; every caller waiting on the same refresh sees the same outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A new access token is in the session.
    Refreshed,
    /// The server refused: signed out.
    Ended,
    /// No answer: the session is kept.
    Unreachable,
    /// The session changed (sign-out, new sign-in) while the refresh ran: result discarded.
    Stale,
}

type RefreshFuture = Shared<LocalBoxFuture<'static, RefreshOutcome>>;

/// Knobs; [`Settings::default`] is what the app uses, tests turn the browser-wide parts off.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Web Lock name for refreshes (`None`: no cross-tab lock).
    pub lock: Option<&'static str>,
    /// Refresh this long before the access token expires, at most (ms)…
    pub proactive_margin_ms: f64,
    /// …and at most this fraction of its lifetime.
    pub proactive_fraction: f64,
    /// Schedule proactive refreshes at all.
    pub proactive: bool,
    /// While unreachable, probe the server this often (ms).
    pub probe_every_ms: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            lock: Some(tabs::LOCK_NAME),
            proactive_margin_ms: 30_000.0,
            proactive_fraction: 0.2,
            proactive: true,
            probe_every_ms: 2_000,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    inner: Rc<Inner>,
}

struct Inner {
    transport: Rc<dyn Transport>,
    session: Session,
    settings: Settings,
    inflight: RefCell<Option<RefreshFuture>>,
    channel: RefCell<Option<Channel>>,
    proactive: RefCell<Option<Timeout>>,
    probe: RefCell<Option<Interval>>,
    refreshes: RefCell<u32>,
}

impl Client {
    pub fn new(transport: Rc<dyn Transport>, session: Session, settings: Settings) -> Self {
        Client {
            inner: Rc::new(Inner {
                transport,
                session,
                settings,
                inflight: RefCell::new(None),
                channel: RefCell::new(None),
                proactive: RefCell::new(None),
                probe: RefCell::new(None),
                refreshes: RefCell::new(0),
            }),
        }
    }

    pub fn session(&self) -> Session {
        self.inner.session
    }

    /// How many refresh requests this client has sent (shown on the dashboard).
    pub fn refresh_count(&self) -> u32 {
        *self.inner.refreshes.borrow()
    }

    // ------------------------------------------------------------ data requests

    /// Sends `request` with the access token; on 401 refreshes once and retries once.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ClientError> {
        if request.is_auth_endpoint() {
            return Err(ClientError::BadResponse(
                "auth endpoints are not sent through Client::send".into(),
            ));
        }
        let session = self.inner.session;
        // A refresh is running: wait for it rather than send a token about to be replaced.
        let running = self.inner.inflight.borrow().clone();
        if let Some(refresh) = running {
            refresh.await;
        }
        let Some(token) = session.access_token_untracked() else {
            return Err(ClientError::SignedOut);
        };
        let first = self.send_with(&request, &token).await?;
        if first.status != 401 {
            return self.finish(first);
        }

        // 401. If another request already refreshed meanwhile, just use its token.
        let retry_token = match session.access_token_untracked() {
            Some(current) if current != token => current,
            _ => match self.refresh(EventKind::RefreshAfter401).await {
                RefreshOutcome::Refreshed => session
                    .access_token_untracked()
                    .ok_or(ClientError::SignedOut)?,
                RefreshOutcome::Ended => return Err(ClientError::SessionEnded),
                RefreshOutcome::Unreachable => return Err(ClientError::Unreachable),
                RefreshOutcome::Stale => return Err(ClientError::SignedOut),
            },
        };
        session.log(
            EventKind::Retry,
            &format!("{} retried once with the new token", request.path),
        );
        let second = self.send_with(&request, &retry_token).await?;
        // A second 401 is an answer, not a reason to refresh again: never loop.
        self.finish(second)
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self.send(HttpRequest::get(path)).await?;
        parse(&response)
    }

    pub async fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.send(HttpRequest::delete(path)).await.map(|_| ())
    }

    async fn send_with(
        &self,
        request: &HttpRequest,
        token: &str,
    ) -> Result<HttpResponse, ClientError> {
        let mut request = request.clone();
        request.bearer = Some(token.to_owned());
        match self.inner.transport.send(request).await {
            Ok(response) => Ok(response),
            Err(_) => {
                self.went_unreachable();
                Err(ClientError::Unreachable)
            }
        }
    }

    fn finish(&self, response: HttpResponse) -> Result<HttpResponse, ClientError> {
        match response.status {
            200..=299 => {
                self.inner.session.set_unreachable(false);
                Ok(response)
            }
            500..=599 => {
                self.went_unreachable();
                Err(ClientError::Unreachable)
            }
            _ => Err(api_error(&response)),
        }
    }

    // ------------------------------------------------------------ refresh (single flight)

    /// Refreshes the access token. Every caller during a refresh gets the same future.
    pub fn refresh(&self, kind: EventKind) -> RefreshFuture {
        if let Some(running) = self.inner.inflight.borrow().as_ref() {
            return running.clone();
        }
        // The epoch is taken now, when the refresh is asked for, not when the future first runs:
        // a sign-out in between must make its result stale.
        let session = self.inner.session;
        let started = Started {
            epoch: session.epoch_untracked(),
            restoring: session.is_restoring_untracked(),
            token_before: session.access_token_untracked(),
        };
        let this = self.clone();
        let future = async move { this.run_refresh(kind, started).await }
            .boxed_local()
            .shared();
        *self.inner.inflight.borrow_mut() = Some(future.clone());
        future
    }

    async fn run_refresh(self, kind: EventKind, started: Started) -> RefreshOutcome {
        let session = self.inner.session;
        let Started {
            epoch,
            restoring,
            token_before,
        } = started;

        let transport = self.inner.transport.clone();
        let inner = self.inner.clone();
        let attempt = move || async move {
            // Waiting for the lock, another tab may have refreshed and told us so.
            let now = session.access_token_untracked();
            if session.epoch_untracked() == epoch && now.is_some() && now != token_before {
                return Attempt::AlreadyFresh;
            }
            *inner.refreshes.borrow_mut() += 1;
            Attempt::Answer(transport.send(HttpRequest::post(paths::REFRESH)).await)
        };
        let attempt = match self.inner.settings.lock {
            Some(name) => tabs::with_lock(name, attempt).await,
            None => Some(attempt().await),
        };
        self.inner.inflight.borrow_mut().take();

        if session.epoch_untracked() != epoch {
            return RefreshOutcome::Stale;
        }
        match attempt {
            Some(Attempt::AlreadyFresh) => {
                session.log(
                    EventKind::CrossTab,
                    "another tab refreshed first; using its token",
                );
                RefreshOutcome::Refreshed
            }
            Some(Attempt::Answer(Ok(response))) if response.status == 200 => {
                match parse::<TokenResponse>(&response) {
                    Ok(tokens) => {
                        if restoring {
                            session.sign_in(
                                tokens.clone(),
                                EventKind::Restored,
                                "session restored through the refresh cookie",
                            );
                        } else {
                            let detail = match kind {
                                EventKind::ProactiveRefresh => {
                                    "refreshed before the access token expired"
                                }
                                EventKind::RefreshAfter401 => "a request got 401; refreshed once",
                                _ => "refreshed",
                            };
                            session.replace_token(tokens.clone(), kind, detail);
                        }
                        session.set_unreachable(false);
                        self.broadcast(&TabMessage::Token { response: tokens });
                        self.schedule_proactive();
                        RefreshOutcome::Refreshed
                    }
                    Err(_) => {
                        self.went_unreachable();
                        RefreshOutcome::Unreachable
                    }
                }
            }
            Some(Attempt::Answer(Ok(response))) if (400..500).contains(&response.status) => {
                self.cancel_timers();
                if restoring {
                    session.sign_out(None, "no session to restore");
                } else {
                    let why = api_error(&response);
                    let detail = match &why {
                        ClientError::Api { code, .. } => format!("refresh refused ({code})"),
                        _ => "refresh refused".into(),
                    };
                    session.sign_out(Some(SESSION_ENDED), &detail);
                    self.broadcast(&TabMessage::SignedOut);
                }
                RefreshOutcome::Ended
            }
            _ => {
                self.went_unreachable();
                RefreshOutcome::Unreachable
            }
        }
    }

    /// At boot: restore the session silently through the refresh cookie.
    pub async fn restore(&self) -> RefreshOutcome {
        self.refresh(EventKind::Restored).await
    }

    // ------------------------------------------------------------ auth endpoints

    /// Signs in (`register`: creates the account first). Never intercepted.
    pub async fn sign_in(
        &self,
        credentials: &Credentials,
        register: bool,
    ) -> Result<(), ClientError> {
        let path = if register {
            paths::REGISTER
        } else {
            paths::LOGIN
        };
        let response = self
            .inner
            .transport
            .send(HttpRequest::post(path).json(credentials))
            .await
            .map_err(|_| ClientError::Unreachable)?;
        if !(200..300).contains(&response.status) {
            return Err(api_error(&response));
        }
        let tokens: TokenResponse = parse(&response)?;
        let detail = if register {
            "account created and signed in"
        } else {
            "signed in with a password"
        };
        self.inner
            .session
            .sign_in(tokens.clone(), EventKind::SignedIn, detail);
        self.inner.session.set_unreachable(false);
        self.broadcast(&TabMessage::SignedIn { response: tokens });
        self.schedule_proactive();
        Ok(())
    }

    /// Signs out here and in every tab; `everywhere` also ends the user's other sessions.
    /// The local sign-out happens first, whatever the server says.
    pub async fn sign_out(&self, everywhere: bool) {
        let session = self.inner.session;
        let token = session.access_token_untracked();
        self.cancel_timers();
        session.sign_out(
            None,
            if everywhere {
                "signed out everywhere"
            } else {
                "signed out"
            },
        );
        self.broadcast(&TabMessage::SignedOut);
        let mut request = HttpRequest::post(if everywhere {
            paths::LOGOUT_GLOBAL
        } else {
            paths::LOGOUT
        });
        request.bearer = token;
        let _ = self.inner.transport.send(request).await;
    }

    // ------------------------------------------------------------ timers and tabs

    /// Refreshes shortly before the access token expires, counted from the server's
    /// `expires_in` with the local monotonic clock.
    fn schedule_proactive(&self) {
        if !self.inner.settings.proactive {
            return;
        }
        let Some(token) = self.inner.session.token_untracked() else {
            return;
        };
        let lifetime = token.expires_in as f64 * 1000.0;
        let margin = self
            .inner
            .settings
            .proactive_margin_ms
            .min(lifetime * self.inner.settings.proactive_fraction);
        let delay = (token.remaining_ms(now_ms()) - margin).max(250.0);
        let epoch = self.inner.session.epoch_untracked();
        let this = self.clone();
        let timer = Timeout::new(delay as u32, move || {
            if this.inner.session.epoch_untracked() == epoch
                && this.inner.session.is_signed_in_untracked()
            {
                let refresh = this.refresh(EventKind::ProactiveRefresh);
                leptos::task::spawn_local(async move {
                    refresh.await;
                });
            }
        });
        *self.inner.proactive.borrow_mut() = Some(timer);
    }

    /// Called on `visibilitychange`, `focus` and `online`: timers may have been throttled in a
    /// background tab, so check the token (or the server) now.
    pub fn check_now(&self) {
        let session = self.inner.session;
        if session.is_unreachable_untracked() {
            self.probe();
            return;
        }
        if let Some(token) = session.token_untracked() {
            let margin = self
                .inner
                .settings
                .proactive_margin_ms
                .min(token.expires_in as f64 * 1000.0 * self.inner.settings.proactive_fraction);
            if token.remaining_ms(now_ms()) <= margin {
                let refresh = self.refresh(EventKind::ProactiveRefresh);
                leptos::task::spawn_local(async move {
                    refresh.await;
                });
            } else {
                self.schedule_proactive();
            }
        }
    }

    fn went_unreachable(&self) {
        self.inner.session.set_unreachable(true);
        if self.inner.probe.borrow().is_some() {
            return;
        }
        let this = self.clone();
        let interval = Interval::new(self.inner.settings.probe_every_ms, move || this.probe());
        *self.inner.probe.borrow_mut() = Some(interval);
    }

    /// One probe while unreachable: a refresh if the session needs one, else `/api/health`.
    fn probe(&self) {
        let this = self.clone();
        leptos::task::spawn_local(async move {
            let session = this.inner.session;
            let needs_token = session.is_restoring_untracked()
                || session
                    .token_untracked()
                    .is_some_and(|t| t.remaining_ms(now_ms()) <= 1000.0);
            let back = if needs_token {
                matches!(
                    this.refresh(EventKind::ProactiveRefresh).await,
                    RefreshOutcome::Refreshed | RefreshOutcome::Ended
                )
            } else {
                matches!(this.inner.transport.send(HttpRequest::get("/api/health")).await, Ok(r) if r.status < 500)
            };
            if back {
                this.inner.probe.borrow_mut().take();
                if session.is_signed_in_untracked() {
                    session.set_unreachable(false);
                    this.schedule_proactive();
                }
            }
        });
    }

    fn cancel_timers(&self) {
        self.inner.proactive.borrow_mut().take();
        self.inner.probe.borrow_mut().take();
    }

    fn broadcast(&self, message: &TabMessage) {
        if let Some(channel) = self.inner.channel.borrow().as_ref() {
            channel.post(message);
        }
    }

    /// Listens to the other tabs: their sign-in, new tokens and sign-out apply here too.
    pub fn join_other_tabs(&self) {
        let weak = Rc::downgrade(&self.inner);
        let channel = Channel::open(move |message| {
            let Some(inner) = weak.upgrade() else { return };
            let this = Client { inner };
            let session = this.inner.session;
            match message {
                TabMessage::SignedIn { response } => {
                    session.sign_in(response, EventKind::CrossTab, "signed in in another tab");
                    session.set_unreachable(false);
                    this.schedule_proactive();
                }
                TabMessage::Token { response } => {
                    if session.is_restoring_untracked()
                        || session.user().is_some_and(|u| u.id == response.user.id)
                    {
                        if session.is_restoring_untracked() {
                            session.sign_in(
                                response,
                                EventKind::CrossTab,
                                "another tab restored the session",
                            );
                        } else {
                            session.replace_token(
                                response,
                                EventKind::CrossTab,
                                "another tab refreshed the access token",
                            );
                        }
                        session.set_unreachable(false);
                        this.schedule_proactive();
                    }
                }
                TabMessage::SignedOut => {
                    if session.is_signed_in_untracked() {
                        this.cancel_timers();
                        session.sign_out(
                            Some("You signed out in another tab."),
                            "signed out in another tab",
                        );
                    }
                }
            }
        });
        *self.inner.channel.borrow_mut() = channel;
    }
}

/// The session as it was when a refresh was asked for.
struct Started {
    epoch: u64,
    restoring: bool,
    token_before: Option<String>,
}

enum Attempt {
    AlreadyFresh,
    Answer(Result<HttpResponse, NetworkError>),
}
