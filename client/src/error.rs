//! What a call through the client can end in.

use std::fmt;

use tokenpair_api::ErrorBody;

use crate::problem::Problem;
use crate::transport::HttpResponse;

/// Why a call did not succeed.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientError {
    /// Nobody is signed in, or the sign-in changed while the call ran (the call was not
    /// retried under another user's token).
    SignedOut,
    /// The refresh was refused: the session is over and the user must sign in again.
    SessionEnded,
    /// A transient problem; the session is kept and the client is retrying.
    Unavailable(Problem),
    /// The server refused the request with its JSON error body.
    Api {
        /// The HTTP status.
        status: u16,
        /// The stable snake_case code (`invalid_credentials`, …).
        code: String,
        /// The sentence for people.
        message: String,
        /// `Retry-After` seconds, when the server sent one.
        retry_after_secs: Option<u32>,
    },
    /// An answer the client could not read.
    BadResponse(String),
    /// The call is not allowed through this handle (e.g. an auth endpoint through the Bearer
    /// client).
    Misuse(&'static str),
}

impl ClientError {
    /// The error a non-2xx answer stands for (its JSON body, or a generic sentence).
    pub fn from_response(response: &HttpResponse) -> ClientError {
        match crate::wire::decode::<ErrorBody>(&response.body) {
            Ok(body) => ClientError::Api {
                status: response.status,
                code: body.error,
                message: body.message,
                retry_after_secs: response.retry_after_secs,
            },
            Err(_) => ClientError::Api {
                status: response.status,
                code: "unknown".into(),
                message: format!("The server answered with status {}.", response.status),
                retry_after_secs: response.retry_after_secs,
            },
        }
    }

    /// The stable error code of an API error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::SignedOut => f.write_str("You are signed out."),
            ClientError::SessionEnded => f.write_str(crate::state::Notice::SessionEnded.message()),
            ClientError::Unavailable(problem) => f.write_str(&problem.message()),
            ClientError::Api { message, .. } => f.write_str(message),
            ClientError::BadResponse(why) => {
                write!(f, "Unexpected answer from the server: {why}")
            }
            ClientError::Misuse(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ClientError {}
