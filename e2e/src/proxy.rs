//! A fault-injecting HTTP/1.1 reverse proxy between Chromium and the server.
//!
//! The browser only ever talks to the proxy (`proxy.url("/")`), so the SPA and the API stay on
//! one origin and the refresh cookie works as in production. Each request is matched against
//! the rules the test set (method + path prefix) and gets a [`Fault`]: forwarded as is, held
//! forever, delayed, answered by the proxy itself, or left without an answer. Every request is
//! counted and logged (forwarded or not), so a test can assert how many
//! `POST /api/auth/refresh` the browser sent and what each one got.
//!
//! ```no_run
//! # async fn demo(server: &tokenpair_e2e::Server) {
//! use tokenpair_e2e::{Fault, Proxy};
//! let proxy = Proxy::start(server.port()).await;
//! proxy.set("POST", "/api/auth/refresh", Fault::too_many_attempts(2));
//! // … drive the browser against proxy.url("/") …
//! assert!(proxy.count("POST", "/api/auth/refresh") >= 1);
//! proxy.clear("POST", "/api/auth/refresh");
//! # }
//! ```
//!
//! Keep-alive works as with any HTTP/1.1 server (hyper on both sides; the upstream side pools
//! its connections). Note that Chromium resends a request once on a fresh connection when a
//! *reused* keep-alive connection closes without an answer ([`Fault::Reset`], [`Fault::Close`],
//! [`Fault::DropResponse`]), so those faults may count two requests per click.
//! Dropping the proxy closes its port and every connection it holds.

use std::convert::Infallible;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

type Body = BoxBody<Bytes, hyper::Error>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the proxy does with a matching request.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// Forward to the server and return its answer (what happens without a rule).
    Pass,
    /// Accept the request and never answer, until the rule is cleared or changed (then the
    /// connection is closed without an answer; the request never reaches the server) or the
    /// browser gives up.
    Hang,
    /// Hold the request until the rule is cleared or changed, then forward it: a server as
    /// slow as the test needs, no slower (a busy state can be checked without racing a delay).
    Hold,
    /// Wait this long, then forward.
    Delay(Duration),
    /// Answer this without forwarding (build with [`Fault::status`]).
    Respond(Canned),
    /// Close the connection with a TCP reset, no answer; the server never sees the request.
    Reset,
    /// Close the connection normally (FIN), no answer; the server never sees the request.
    Close,
    /// Forward to the server, wait for its complete answer, then reset the connection: the
    /// server acted (e.g. rotated or revoked a token), the browser never hears.
    DropResponse,
}

/// A response the proxy makes up: see [`Fault::status`].
#[derive(Clone, Debug, PartialEq)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Fault {
    /// Answer `status` (no body yet; add with [`Fault::header`], [`Fault::json`], [`Fault::body`]).
    pub fn status(status: u16) -> Fault {
        Fault::Respond(Canned {
            status,
            headers: Vec::new(),
            body: String::new(),
        })
    }

    /// Adds a header to a [`Fault::Respond`]. Panics on any other fault.
    pub fn header(mut self, name: &str, value: &str) -> Fault {
        match &mut self {
            Fault::Respond(c) => c.headers.push((name.to_owned(), value.to_owned())),
            other => panic!("Fault::header on {other:?}: only Fault::status(..) has headers"),
        }
        self
    }

    /// Sets a [`Fault::Respond`]'s body (as given, no content type).
    pub fn body(mut self, body: impl Into<String>) -> Fault {
        match &mut self {
            Fault::Respond(c) => c.body = body.into(),
            other => panic!("Fault::body on {other:?}: only Fault::status(..) has a body"),
        }
        self
    }

    /// Sets a [`Fault::Respond`]'s body to this JSON, with `Content-Type: application/json`.
    pub fn json(self, value: serde_json::Value) -> Fault {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    /// The server's API error shape: `{"error": code, "message": message}` with `status`.
    pub fn api_error(status: u16, code: &str, message: &str) -> Fault {
        Fault::status(status).json(serde_json::json!({ "error": code, "message": message }))
    }

    /// A rate limiter's answer: 429, `Retry-After: secs`, `too_many_attempts` JSON.
    pub fn too_many_attempts(retry_after_secs: u64) -> Fault {
        Fault::api_error(
            429,
            "too_many_attempts",
            &format!("Too many requests. Try again in {retry_after_secs} seconds."),
        )
        .header("retry-after", &retry_after_secs.to_string())
    }

    fn kind(&self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Hang => "hang",
            Fault::Hold => "hold",
            Fault::Delay(_) => "delay",
            Fault::Respond(_) => "respond",
            Fault::Reset => "reset",
            Fault::Close => "close",
            Fault::DropResponse => "drop-response",
        }
    }
}

/// One request the proxy received, in arrival order.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// The path without the query.
    pub path: String,
    pub query: Option<String>,
    /// Since the proxy started.
    pub at: Duration,
    /// The fault applied when the request arrived (`"pass"`, `"hang"`, …).
    pub fault: &'static str,
    /// The status the browser got (from the server or made up), `None` while pending or when it
    /// got no answer. For [`Fault::DropResponse`]: the status the server answered.
    pub status: Option<u16>,
    /// Whether the server saw the request.
    pub forwarded: bool,
    /// The headers of the server's answer (empty for a made-up one or none).
    pub headers: Vec<(String, String)>,
}

impl Exchange {
    /// The first header of the server's answer called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Clone, Debug)]
struct Rule {
    /// Upper-case method, or `None` for any.
    method: Option<String>,
    prefix: String,
    fault: Fault,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    log: Vec<Exchange>,
}

struct Shared {
    upstream: String,
    client: HttpClient<HttpConnector, Incoming>,
    state: Mutex<State>,
    /// Bumped on every rule change, so held requests look again.
    rules_changed: watch::Sender<u64>,
    started: Instant,
    connections: AtomicUsize,
}

/// A running proxy. Stops (port closed, connections dropped) when dropped.
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `127.0.0.1:upstream_port`.
    pub async fn start(upstream_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared {
            upstream: format!("127.0.0.1:{upstream_port}"),
            client: HttpClient::builder(TokioExecutor::new()).build(HttpConnector::new()),
            state: Mutex::new(State::default()),
            rules_changed: watch::channel(0).0,
            started: Instant::now(),
            connections: AtomicUsize::new(0),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Proxy {
            port,
            shared,
            accept,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<proxy port><path>`: the origin the browser should use.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// From now on, requests with this method (`"*"` for any) whose path starts with `prefix`
    /// get `fault`. Replaces a rule with the same method and prefix. The most specific rule
    /// wins: the longest prefix, then a named method over `"*"`.
    pub fn set(&self, method: &str, prefix: &str, fault: Fault) {
        let method = method_key(method);
        {
            let mut state = self.shared.lock();
            state
                .rules
                .retain(|r| !(r.method == method && r.prefix == prefix));
            state.rules.push(Rule {
                method,
                prefix: prefix.to_owned(),
                fault,
            });
        }
        self.shared.rules_changed.send_modify(|n| *n += 1);
    }

    /// Removes the rule set for this method and prefix (held requests are let go).
    pub fn clear(&self, method: &str, prefix: &str) {
        let method = method_key(method);
        self.shared
            .lock()
            .rules
            .retain(|r| !(r.method == method && r.prefix == prefix));
        self.shared.rules_changed.send_modify(|n| *n += 1);
    }

    /// Removes every rule: everything passes again.
    pub fn clear_all(&self) {
        self.shared.lock().rules.clear();
        self.shared.rules_changed.send_modify(|n| *n += 1);
    }

    /// How many requests with this method (`"*"` for any) and exactly this path (query
    /// ignored) arrived so far, whatever happened to them.
    pub fn count(&self, method: &str, path: &str) -> usize {
        let method = method_key(method);
        self.shared
            .lock()
            .log
            .iter()
            .filter(|e| e.path == path && method.as_ref().is_none_or(|m| *m == e.method))
            .count()
    }

    /// Every request so far, in arrival order.
    pub fn log(&self) -> Vec<Exchange> {
        self.shared.lock().log.clone()
    }

    /// The requests with this method (`"*"` for any) and exactly this path, in arrival order.
    pub fn exchanges(&self, method: &str, path: &str) -> Vec<Exchange> {
        let method = method_key(method);
        self.shared
            .lock()
            .log
            .iter()
            .filter(|e| e.path == path && method.as_ref().is_none_or(|m| *m == e.method))
            .cloned()
            .collect()
    }

    /// How many TCP connections the browser (or any client) opened to the proxy.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// Time since the proxy started, on the clock of [`Exchange::at`].
    pub fn elapsed(&self) -> Duration {
        self.shared.started.elapsed()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // The accept task owns the connection tasks (a JoinSet): aborting it drops them all.
        self.accept.abort();
    }
}

fn method_key(method: &str) -> Option<String> {
    (method != "*").then(|| method.to_ascii_uppercase())
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A test that panicked while holding the lock must not hide its own message.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fault_for(&self, method: &str, path: &str) -> Fault {
        let state = self.lock();
        state
            .rules
            .iter()
            .filter(|r| {
                path.starts_with(&r.prefix) && r.method.as_deref().is_none_or(|m| m == method)
            })
            .max_by_key(|r| (r.prefix.len(), r.method.is_some()))
            .map(|r| r.fault.clone())
            .unwrap_or(Fault::Pass)
    }

    fn record(&self, req: &Request<Incoming>, fault: &Fault) -> usize {
        let mut state = self.lock();
        state.log.push(Exchange {
            method: req.method().as_str().to_owned(),
            path: req.uri().path().to_owned(),
            query: req.uri().query().map(str::to_owned),
            at: self.started.elapsed(),
            fault: fault.kind(),
            status: None,
            forwarded: false,
            headers: Vec::new(),
        });
        state.log.len() - 1
    }

    fn update(&self, index: usize, f: impl FnOnce(&mut Exchange)) {
        if let Some(e) = self.lock().log.get_mut(index) {
            f(e);
        }
    }

    async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        fd: RawFd,
    ) -> Result<Response<Body>, BoxError> {
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let fault = self.fault_for(&method, &path);
        let index = self.record(&req, &fault);
        match fault {
            Fault::Pass => self.forward(req, index).await,
            Fault::Delay(d) => {
                tokio::time::sleep(d).await;
                self.forward(req, index).await
            }
            Fault::Respond(canned) => {
                self.update(index, |e| e.status = Some(canned.status));
                Ok(canned_response(&canned))
            }
            Fault::Hang => {
                let mut changed = self.rules_changed.subscribe();
                while self.fault_for(&method, &path) == Fault::Hang {
                    if changed.changed().await.is_err() {
                        break;
                    }
                }
                Err("held request let go: closing without an answer".into())
            }
            Fault::Hold => {
                let mut changed = self.rules_changed.subscribe();
                while self.fault_for(&method, &path) == Fault::Hold {
                    if changed.changed().await.is_err() {
                        break;
                    }
                }
                self.forward(req, index).await
            }
            Fault::Close => Err("fault: close without an answer".into()),
            Fault::Reset => {
                reset_on_close(fd);
                Err("fault: reset without an answer".into())
            }
            Fault::DropResponse => {
                let response = self.forward(req, index).await?;
                // Let the server finish (the whole body), then never tell the browser.
                let _ = response.into_body().collect().await;
                reset_on_close(fd);
                Err("fault: the server answered, the browser never hears".into())
            }
        }
    }

    async fn forward(
        &self,
        req: Request<Incoming>,
        index: usize,
    ) -> Result<Response<Body>, BoxError> {
        let (mut parts, body) = req.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".into());
        parts.uri = format!("http://{}{}", self.upstream, path_and_query).parse()?;
        // The Host header stays the proxy's: it is the origin the browser sees, and the
        // server's CSRF check compares it with `Origin`.
        strip_hop_by_hop(&mut parts.headers);
        self.update(index, |e| e.forwarded = true);
        let response = match self.client.request(Request::from_parts(parts, body)).await {
            Ok(r) => r,
            Err(e) => {
                self.update(index, |x| x.status = Some(502));
                return Ok(canned_response(&Canned {
                    status: 502,
                    headers: vec![("content-type".into(), "text/plain".into())],
                    body: format!("e2e proxy: upstream {} failed: {e}", self.upstream),
                }));
            }
        };
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        self.update(index, |e| {
            e.status = Some(parts.status.as_u16());
            e.headers = headers;
        });
        Ok(Response::from_parts(parts, body.boxed()))
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let fd = stream.as_raw_fd();
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| shared.clone().handle(req, fd));
            // An error here is a fault closing the connection, or the browser going away.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Makes the socket's coming close send a TCP RST instead of a FIN.
fn reset_on_close(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` is the connection's socket, still open: this runs inside the connection's
    // own service call, and the connection (which owns the socket) outlives it.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

fn canned_response(canned: &Canned) -> Response<Body> {
    let mut response = Response::new(
        Full::new(Bytes::from(canned.body.clone()))
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *response.status_mut() = StatusCode::from_u16(canned.status).expect("a valid status code");
    for (name, value) in &canned.headers {
        response.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            HeaderValue::from_str(value).expect("a valid header value"),
        );
    }
    response
}

/// Removes the headers that describe one connection, not the message (RFC 9110 §7.6.1).
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<String> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|s| s.trim().to_ascii_lowercase()))
        .collect();
    for name in named {
        headers.remove(name.as_str());
    }
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    ] {
        headers.remove(name);
    }
}
