//! Why the server could not help just now — a transient condition, never a sign-out.
//!
//! Only a refresh the [`Protocol`](crate::Protocol) judges final ends a session. Everything
//! else — no answer, a timeout, 429, 408, 5xx, an answer that could not be read — is a
//! [`Problem`]: the session is kept, the UI says what happened, and the client retries with
//! backoff ([`crate::probe`]).

use std::fmt;
use std::time::Duration;

use crate::http::{Response, TransportError};

/// A transient reason the server could not be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// No answer at all (offline, connection refused or reset).
    Unreachable,
    /// No answer before the request deadline.
    TimedOut,
    /// 429: the server (or a proxy) asks us to slow down.
    RateLimited {
        /// `Retry-After`, if sent.
        retry_after: Option<Duration>,
    },
    /// Any other answer that is not a verdict on the session (5xx, 408, an unexpected status).
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
    pub fn from_response(response: &Response) -> Problem {
        match response.status {
            429 => Problem::RateLimited {
                retry_after: response.retry_after(),
            },
            status => Problem::Status(status),
        }
    }

    /// How long the server asked us to wait before trying again, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Problem::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Whether this is worth retrying at all: no answer, a timeout, 408, 429 and 5xx are;
    /// any other status is a definitive answer.
    pub fn is_transient(&self) -> bool {
        match self {
            Problem::Status(status) => *status == 408 || *status >= 500,
            _ => true,
        }
    }
}

/// One sentence for people: what happened (the client retries; the caller says so where it
/// does).
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unreachable => f.write_str("Can't reach the server"),
            Problem::TimedOut => f.write_str("The server did not answer in time"),
            Problem::RateLimited { .. } => {
                f.write_str("The server is busy (429 Too Many Requests)")
            }
            Problem::Status(status) if *status >= 500 => {
                write!(f, "The server had a problem ({status})")
            }
            Problem::Status(status) => write!(f, "The server answered {status} unexpectedly"),
            Problem::BadAnswer => f.write_str("The server sent an answer we could not read"),
        }
    }
}

impl Problem {
    /// The sentence the client shows while it retries through this problem
    /// ("Can't reach the server — retrying.").
    pub fn message(&self) -> String {
        match self.retry_after() {
            Some(wait) => format!("{self} — retrying in {} s.", wait.as_secs().max(1)),
            None => format!("{self} — retrying."),
        }
    }
}
