//! The network, behind a trait: [`FetchTransport`] is the browser's `fetch`; tests plug in a
//! fake server. Every request gets a deadline here ([`send_with_deadline`]), whatever the
//! transport, and [`FetchTransport`] aborts the real request when its deadline passes.

use std::fmt;
use std::time::Duration;

use futures::future::{select, Either, FutureExt, LocalBoxFuture};
use gloo_timers::future::TimeoutFuture;
use tokenpair_api::{CSRF_HEADER, CSRF_HEADER_VALUE};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The HTTP methods the client sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
}

/// A request as data, so the client can send it again after a refresh.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// A same-origin path such as `/api/me`.
    pub path: String,
    /// The access token for `Authorization: Bearer …` (set by the client, not by callers).
    pub bearer: Option<String>,
    /// A JSON body.
    pub json_body: Option<String>,
}

impl HttpRequest {
    /// A request without a body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        HttpRequest {
            method,
            path: path.into(),
            bearer: None,
            json_body: None,
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::Get, path)
    }

    /// `POST path`.
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::Post, path)
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::Delete, path)
    }

    /// With `body` as JSON (through serde).
    pub fn json(mut self, body: &impl serde::Serialize) -> Self {
        self.json_body = crate::json::to_string(body);
        self
    }

    /// With one of tokenpair-api's wire types as JSON, without serde ([`crate::wire`]).
    pub fn wire_body(mut self, body: &impl crate::wire::ToJson) -> Self {
        self.json_body = crate::wire::encode(body);
        self
    }
}

/// Never prints the access token or the body (it may hold a password).
impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .field("json_body", &self.json_body.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// An HTTP answer.
#[derive(Clone, PartialEq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// `Retry-After` in seconds, when the server sent one (429, 503).
    pub retry_after_secs: Option<u32>,
    /// The target of a `Link: <…>; rel="next"` header (RFC 8288), when there is a next page.
    pub next_page: Option<String>,
}

impl HttpResponse {
    /// An answer with a status and a body, no `Retry-After`.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        HttpResponse {
            status,
            body: body.into(),
            retry_after_secs: None,
            next_page: None,
        }
    }
}

/// The `rel="next"` target of a `Link` header value (`<url>; rel="next"`, possibly among
/// other links separated by commas).
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_owned())
    })
}

/// Never prints the body (a token response carries the access token).
impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field(
                "body",
                &format_args!("<{} bytes redacted>", self.body.len()),
            )
            .field("retry_after_secs", &self.retry_after_secs)
            .field("next_page", &self.next_page)
            .finish()
    }
}

/// The request got no HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// Connection refused or reset, DNS, offline, CORS…
    Network(String),
    /// No answer before the deadline; the request was aborted.
    TimedOut,
}

/// Sends requests. Implementations need not enforce deadlines ([`send_with_deadline`] does),
/// but should stop the underlying request when the returned future is dropped.
pub trait Transport {
    /// Sends `request`; resolves with the answer, or with why there is none.
    fn send(
        &self,
        request: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>>;
}

/// Sends `request`, giving up (and dropping, so aborting, the request) after `deadline`.
pub async fn send_with_deadline(
    transport: &dyn Transport,
    request: HttpRequest,
    deadline: Duration,
) -> Result<HttpResponse, TransportError> {
    let ms = u32::try_from(deadline.as_millis()).unwrap_or(u32::MAX);
    let send = transport.send(request);
    match select(send, TimeoutFuture::new(ms)).await {
        Either::Left((answer, _)) => answer,
        Either::Right(_) => Err(TransportError::TimedOut),
    }
}

/// The browser's `fetch`: same origin, cookies included, the CSRF header on every request.
/// Dropping the future aborts the request (and the body download) through an
/// `AbortController`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTransport;

/// Aborts the request when dropped (after completion this does nothing).
struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = &self.0 {
            controller.abort();
        }
    }
}

impl Transport for FetchTransport {
    fn send(
        &self,
        r: HttpRequest,
    ) -> LocalBoxFuture<'static, Result<HttpResponse, TransportError>> {
        fetch(r).boxed_local()
    }
}

/// `fetch(path, { method, credentials: "same-origin", headers, body, signal })`, then the
/// whole body as text. web-sys directly: gloo-net's builder adds nothing here but bundle size.
async fn fetch(r: HttpRequest) -> Result<HttpResponse, TransportError> {
    let mut abort = AbortOnDrop(web_sys::AbortController::new().ok());
    let headers = web_sys::Headers::new().map_err(network)?;
    headers
        .set(CSRF_HEADER, CSRF_HEADER_VALUE)
        .map_err(network)?;
    if let Some(token) = &r.bearer {
        headers
            .set("Authorization", &["Bearer ", token].concat())
            .map_err(network)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(match r.method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Delete => "DELETE",
    });
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    if let Some(body) = &r.json_body {
        headers
            .set("Content-Type", "application/json")
            .map_err(network)?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    if let Some(controller) = &abort.0 {
        init.set_signal(Some(&controller.signal()));
    }
    let window = web_sys::window().ok_or_else(|| TransportError::Network("no window".into()))?;
    let response: web_sys::Response =
        JsFuture::from(window.fetch_with_str_and_init(&r.path, &init))
            .await
            .map_err(network)?
            .unchecked_into();
    let status = response.status();
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let retry_after_secs = header("Retry-After").and_then(|v| v.trim().parse::<u32>().ok());
    let next_page = header("Link").and_then(|v| next_link(&v));
    let body = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    // Completed: nothing left to abort.
    abort.0.take();
    Ok(HttpResponse {
        status,
        body,
        retry_after_secs,
        next_page,
    })
}

/// A rejected `fetch` (offline, refused, aborted…) as "TypeError: Failed to fetch".
fn network(error: JsValue) -> TransportError {
    let message = match error.dyn_ref::<js_sys::Error>() {
        Some(e) => [String::from(e.name()), String::from(e.message())].join(": "),
        None => "fetch failed".to_owned(),
    };
    TransportError::Network(message)
}
