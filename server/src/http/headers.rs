//! Response headers every answer must carry, set by one small tower layer (instead of a stack
//! of one-header layers and a boxed middleware: `/api/me` is the hot path, see the bench).
//!
//! * Every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
//!   `Referrer-Policy: no-referrer`, `Cross-Origin-Opener-Policy: same-origin`.
//! * Every `/api` response additionally: `Cache-Control: no-store`, `Pragma: no-cache`, and a
//!   `Content-Security-Policy` that allows nothing (unless the handler set one); a request that
//!   declares a body over [`BODY_LIMIT`] is answered 413 before any handler runs.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::http::error::ApiError;

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;

/// One header and whether it replaces a value the handler set.
pub struct Header {
    name: HeaderName,
    value: HeaderValue,
    overriding: bool,
}

const fn always(name: HeaderName, value: &'static str) -> Header {
    Header {
        name,
        value: HeaderValue::from_static(value),
        overriding: true,
    }
}

pub static EVERY_RESPONSE: [Header; 4] = [
    always(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    always(header::X_FRAME_OPTIONS, "DENY"),
    always(header::REFERRER_POLICY, "no-referrer"),
    always(
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

pub static API_RESPONSE: [Header; 3] = [
    always(header::CACHE_CONTROL, "no-store"),
    always(header::PRAGMA, "no-cache"),
    Header {
        name: header::CONTENT_SECURITY_POLICY,
        value: HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        overriding: false,
    },
];

/// Sets `headers` on every response; with `body_limit`, refuses larger declared bodies (413).
#[derive(Clone, Copy)]
pub struct SetHeaders {
    headers: &'static [Header],
    body_limit: Option<u64>,
}

impl SetHeaders {
    pub fn every_response() -> Self {
        SetHeaders {
            headers: &EVERY_RESPONSE,
            body_limit: None,
        }
    }

    pub fn api(body_limit: usize) -> Self {
        SetHeaders {
            headers: &API_RESPONSE,
            body_limit: Some(body_limit as u64),
        }
    }
}

impl<S> Layer<S> for SetHeaders {
    type Service = SetHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SetHeadersService { inner, with: *self }
    }
}

#[derive(Clone)]
pub struct SetHeadersService<S> {
    inner: S,
    with: SetHeaders,
}

impl<S> Service<Request> for SetHeadersService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = SetHeadersFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let too_large = self.with.body_limit.is_some_and(|limit| {
            request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|n| n > limit)
        });
        let state = if too_large {
            State::Refused {
                response: Some(ApiError::PayloadTooLarge.into_response()),
            }
        } else {
            State::Inner {
                future: self.inner.call(request),
            }
        };
        SetHeadersFuture {
            state,
            headers: self.with.headers,
        }
    }
}

pin_project! {
    pub struct SetHeadersFuture<F> {
        #[pin]
        state: State<F>,
        headers: &'static [Header],
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Inner { #[pin] future: F },
        Refused { response: Option<Response> },
    }
}

impl<F, E> Future for SetHeadersFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let headers: &'static [Header] = this.headers;
        let mut response = match this.state.project() {
            StateProj::Inner { future } => match future.poll(cx) {
                Poll::Ready(Ok(r)) => r,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            },
            StateProj::Refused { response } => match response.take() {
                Some(r) => r,
                None => return Poll::Pending,
            },
        };
        let h = response.headers_mut();
        h.reserve(headers.len());
        for header in headers {
            if header.overriding || !h.contains_key(&header.name) {
                h.insert(header.name.clone(), header.value.clone());
            }
        }
        Poll::Ready(Ok(response))
    }
}
