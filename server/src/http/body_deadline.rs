//! A total deadline for request bodies, on the routes that read one (`/api/auth/*`).
//!
//! tower-http's body timeout is an *idle* timeout: it restarts with every frame, so a 16 KiB
//! body sent one byte every 9 s holds its connection for some 40 hours. Here the whole body must
//! arrive within `HEADER_READ_TIMEOUT` of the handler asking for it — it is read up front (at
//! most [`BODY_LIMIT`] bytes) and handed on complete. Too slow: 408 `request_timeout`, and the
//! connection is closed.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::headers::BODY_LIMIT;
use crate::state::AppState;

pub async fn read_whole_body(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let deadline = state.config.network.header_read_timeout;
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            let inner = e.into_inner();
            let too_large = inner.is::<http_body_util::LengthLimitError>();
            let error = if too_large {
                ApiError::PayloadTooLarge
            } else {
                ApiError::BadRequest("The request body could not be read.".into())
            };
            closing(error.into_response())
        }
        Err(_) => {
            tracing::info!(timeout = ?deadline, "request body too slow; connection closed");
            closing(ApiError::RequestTimeout.into_response())
        }
    }
}

/// The connection ends after this answer (the rest of the body is not waited for).
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
