//! Why the server could not help just now — a transient condition, never a sign-out.
//!
//! Only a refresh refused with `invalid_refresh_token`, `refresh_token_reused` or
//! `session_expired` ends a session ([`crate::refresh`]). Everything else — no answer, a
//! timeout, 429, 408, 404, 403, 5xx — is a [`Problem`]: the session is kept, the UI says what
//! happened, and the client retries with backoff ([`crate::probe`]).

use crate::transport::{HttpResponse, TransportError};

/// A transient reason the server could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// No answer at all (offline, connection refused or reset).
    Unreachable,
    /// No answer before the request deadline.
    TimedOut,
    /// 429: the server (or a proxy) asks us to slow down.
    RateLimited {
        /// `Retry-After`, if sent.
        retry_after_secs: Option<u32>,
    },
    /// Any other answer that is not a verdict on the session (5xx, 404, 403, 408, …).
    Status(u16),
    /// A 2xx whose body could not be read.
    BadAnswer,
}

impl Problem {
    /// The problem a transport error stands for.
    pub fn from_transport(error: &TransportError) -> Problem {
        match error {
            TransportError::Network(_) => Problem::Unreachable,
            TransportError::TimedOut => Problem::TimedOut,
        }
    }

    /// The problem an unusable HTTP answer stands for.
    pub fn from_response(response: &HttpResponse) -> Problem {
        match response.status {
            429 => Problem::RateLimited {
                retry_after_secs: response.retry_after_secs,
            },
            status => Problem::Status(status),
        }
    }

    /// Seconds the server asked us to wait before trying again, if it did.
    pub fn retry_after_secs(&self) -> Option<u32> {
        match self {
            Problem::RateLimited { retry_after_secs } => *retry_after_secs,
            _ => None,
        }
    }

    /// One sentence for people; every variant says what happened and that it is retried.
    pub fn message(&self) -> String {
        match self {
            Problem::Unreachable => "Can't reach the server — retrying.".into(),
            Problem::TimedOut => "The server did not answer in time — retrying.".into(),
            Problem::RateLimited {
                retry_after_secs: Some(s),
            } => format!("The server is busy (429 Too Many Requests) — retrying in {s} s."),
            Problem::RateLimited {
                retry_after_secs: None,
            } => "The server is busy (429 Too Many Requests) — retrying.".into(),
            Problem::Status(status) if *status >= 500 => {
                format!("The server had a problem ({status}) — retrying.")
            }
            Problem::Status(status) => {
                format!("The server answered {status} where it should not — retrying.")
            }
            Problem::BadAnswer => "The server sent an answer we could not read — retrying.".into(),
        }
    }
}
