//! What a call through the client can end in.

use std::time::Duration;

use wasm_bindgen::JsValue;

use crate::http::Response;
use crate::problem::Problem;

/// A refusal by the server, read from its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// A stable code for programs (`invalid_credentials`, `invalid_grant`…), or `unknown`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// `Retry-After`, when the server sent one.
    pub retry_after: Option<Duration>,
}

/// The first string among members `names` of a parsed JSON object.
fn first_string(body: &JsValue, names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        js_sys::Reflect::get(body, &JsValue::from_str(name))
            .ok()?
            .as_string()
    })
}

impl ApiError {
    /// Reads a non-2xx answer: its JSON error body if it has one — the shapes most backends
    /// send, `{"error" | "code": …, "message" | "error_description" | "detail": …}` (tokenpair,
    /// OAuth 2.0, Django REST framework…) — otherwise a sentence naming the status.
    pub fn from_response(response: &Response) -> ApiError {
        let body = js_sys::JSON::parse(&response.text())
            .ok()
            .filter(JsValue::is_object)
            .unwrap_or(JsValue::NULL);
        let code = first_string(&body, &["error", "code"]);
        let message = first_string(&body, &["message", "error_description", "detail"]);
        ApiError {
            status: response.status,
            message: message
                .unwrap_or_else(|| format!("The server answered with status {}.", response.status)),
            code: code.unwrap_or_else(|| "unknown".to_owned()),
            retry_after: response.retry_after(),
        }
    }
}

/// Why a call did not succeed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Nobody is signed in (the call was not sent).
    #[error("You are signed out.")]
    SignedOut,
    /// The sign-in changed (sign-out, another user) while the call ran: its answer belonged to
    /// the previous sign-in and was dropped, so one user's data never reaches another's view.
    #[error("The sign-in changed while the request ran; its answer was dropped.")]
    UserChanged,
    /// The refresh was refused: the session is over and the user must sign in again.
    #[error("Your session ended — please sign in again.")]
    SessionEnded,
    /// A transient problem; the session is kept and the client retries in the background
    /// (listen for [`AuthEvent::Recovered`](crate::AuthEvent::Recovered) to try again).
    #[error("{0}.")]
    Unavailable(Problem),
    /// The server refused the request.
    #[error("{}", .0.message)]
    Api(ApiError),
    /// The request needed a more recent sign-in, and the re-authentication was cancelled:
    /// nothing was done.
    #[error("Cancelled: this action needs you to confirm it is you.")]
    ReauthenticationCancelled,
    /// A passkey ceremony in the browser gave no credential (closed, unsupported…).
    #[error("{0}")]
    Passkey(crate::passkey::PasskeyError),
    /// An answer the client could not read.
    #[error("Unexpected answer from the server: {0}")]
    BadResponse(String),
    /// The call is not allowed: an origin that may not receive the token, a cookie endpoint
    /// through the Bearer client, a body that cannot be written. Nothing was sent.
    #[error("{0}")]
    Misuse(String),
}

impl ClientError {
    /// The stable error code of an API error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api(e) => Some(e.status),
            _ => None,
        }
    }
}
