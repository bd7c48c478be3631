//! The network, behind a trait: [`FetchTransport`] is the browser's `fetch` through gloo-net;
//! tests plug in a fake server. Every request gets a deadline here ([`send_with_deadline`]),
//! whatever the transport, and [`FetchTransport`] aborts the real request when its deadline
//! passes.

use std::time::Duration;

use futures::future::{select, Either, FutureExt, LocalBoxFuture};
use gloo_net::http::{Method as GlooMethod, Request as GlooRequest, RequestBuilder};
use wasm_bindgen::JsValue;

use super::request::{Body, CredentialsMode, Method, Request};
use super::response::Response;

/// The request got no HTTP answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// Connection refused or reset, DNS, offline, CORS…
    #[error("no answer: {0}")]
    Network(String),
    /// No answer before the deadline; the request was aborted.
    #[error("no answer before the deadline")]
    TimedOut,
}

/// Sends requests. Implementations need not enforce deadlines ([`send_with_deadline`] does),
/// but should stop the underlying request when the returned future is dropped. The request's
/// `url` is absolute, without a query: its parameters are `query`, in order. Its headers are
/// final.
pub trait Transport {
    /// Sends `request`; resolves with the answer, or with why there is none.
    fn send(&self, request: Request) -> LocalBoxFuture<'static, Result<Response, TransportError>>;
}

/// A request on its way.
pub type SendFuture = LocalBoxFuture<'static, Result<Response, TransportError>>;

/// Sends `request`, giving up (and dropping, so aborting, the request) after `deadline`.
pub async fn send_with_deadline(
    transport: &dyn Transport,
    request: Request,
    deadline: Duration,
) -> Result<Response, TransportError> {
    with_deadline(transport.send(request), deadline).await
}

/// `send`, given up (dropped, so aborted) after `deadline`.
pub fn with_deadline(send: SendFuture, deadline: Duration) -> SendFuture {
    let timer = crate::time::sleep(deadline).boxed_local();
    select(send, timer)
        .map(|first| match first {
            Either::Left((answer, _)) => answer,
            Either::Right(_) => Err(TransportError::TimedOut),
        })
        .boxed_local()
}

/// The browser's `fetch`, through gloo-net's request builder: the request's method, headers,
/// body and credentials mode, and an `AbortSignal`, so that dropping the future (at the
/// deadline) aborts the request and the body download.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    fn send(&self, request: Request) -> LocalBoxFuture<'static, Result<Response, TransportError>> {
        fetch(request).boxed_local()
    }
}

/// Aborts the request when dropped (after completion this does nothing).
struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = &self.0 {
            controller.abort();
        }
    }
}

async fn fetch(request: Request) -> Result<Response, TransportError> {
    let mut abort = AbortOnDrop(web_sys::AbortController::new().ok());
    let signal = abort.0.as_ref().map(|c| c.signal());
    let method = match request.method {
        Method::Get => GlooMethod::GET,
        Method::Post => GlooMethod::POST,
        Method::Put => GlooMethod::PUT,
        Method::Patch => GlooMethod::PATCH,
        Method::Delete => GlooMethod::DELETE,
    };
    let mut builder = RequestBuilder::new(&request.url)
        .method(method)
        .query(request.query.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .credentials(match request.credentials.unwrap_or_default() {
            CredentialsMode::SameOrigin => web_sys::RequestCredentials::SameOrigin,
            CredentialsMode::Include => web_sys::RequestCredentials::Include,
            CredentialsMode::Omit => web_sys::RequestCredentials::Omit,
        })
        .abort_signal(signal.as_ref());
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let prepared = with_body(builder, request.body.as_ref()).map_err(network)?;
    let response = prepared.send().await.map_err(network)?;
    let status = response.status();
    let headers = response.headers().entries().collect();
    let body = response.binary().await.map_err(network)?;
    // Completed: nothing left to abort.
    abort.0.take();
    Ok(Response {
        status,
        headers,
        body,
    })
}

fn with_body(builder: RequestBuilder, body: Option<&Body>) -> Result<GlooRequest, gloo_net::Error> {
    match body {
        None => builder.build(),
        Some(Body::Json(text)) => builder
            .header("Content-Type", "application/json")
            .body(JsValue::from_str(text)),
        Some(Body::Text(text)) => builder.body(JsValue::from_str(text)),
        Some(Body::Bytes(bytes)) => builder.body(js_sys::Uint8Array::from(bytes.as_slice())),
        Some(Body::Form(fields)) => {
            let params = web_sys::UrlSearchParams::new()
                .map_err(|_| gloo_net::Error::GlooError("no URLSearchParams".into()))?;
            for (name, value) in fields {
                params.append(name, value);
            }
            builder.body(params)
        }
    }
}

/// A rejected `fetch` (offline, refused, aborted…), e.g. "TypeError: Failed to fetch". (Its
/// JavaScript message only: formatting gloo-net's whole error type would bundle serde_json's
/// error messages.)
fn network(error: gloo_net::Error) -> TransportError {
    TransportError::Network(match error {
        gloo_net::Error::JsError(e) => [e.name.as_str(), ": ", e.message.as_str()].concat(),
        _ => "fetch failed".to_owned(),
    })
}
