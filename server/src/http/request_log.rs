//! One `debug` line per request (method, path, status, latency) — at no cost when `debug` is
//! off: unlike tower-http's `TraceLayer`, nothing (no span, no clock read, no body wrapper) is
//! done unless the line will be written. `/api/me` is the hot path, see the bench.
//!
//! The path is logged, never the query string or a header: no token reaches the log.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

#[derive(Clone, Copy, Default)]
pub struct RequestLog;

impl<S> Layer<S> for RequestLog {
    type Service = RequestLogService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestLogService { inner }
    }
}

#[derive(Clone)]
pub struct RequestLogService<S> {
    inner: S,
}

/// What is remembered of a request while it runs (only when the line will be written).
struct Seen {
    method: Method,
    path: String,
    started: Instant,
}

impl<S> Service<Request> for RequestLogService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RequestLogFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let seen = tracing::enabled!(tracing::Level::DEBUG).then(|| Seen {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
            started: Instant::now(),
        });
        RequestLogFuture {
            inner: self.inner.call(request),
            seen,
        }
    }
}

pin_project! {
    pub struct RequestLogFuture<F> {
        #[pin]
        inner: F,
        seen: Option<Seen>,
    }
}

impl<F, E> Future for RequestLogFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Some(seen), Ok(response)) = (this.seen.take(), &result) {
            tracing::debug!(
                method = %seen.method,
                path = %seen.path,
                status = response.status().as_u16(),
                latency_us = seen.started.elapsed().as_micros() as u64,
                "request"
            );
        }
        Poll::Ready(result)
    }
}
