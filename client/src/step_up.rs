//! **Where a step-up challenge is answered** ([RFC 9470](https://www.rfc-editor.org/rfc/rfc9470)):
//! a request the server refused because the sign-in behind it is too old waits for the person
//! to prove who they are again, then goes out **once** more.
//!
//! 1. [`Protocol::step_up_challenge`](crate::Protocol::step_up_challenge) recognises the
//!    challenge — by default RFC 9470's 401 with
//!    `WWW-Authenticate: … error="insufficient_user_authentication", max_age=…`, from any
//!    backend (or that JSON error code, where a cross-origin backend hides the header).
//! 2. [`Core::step_up`] is **single flight**: the first challenged request sets
//!    [`AuthStore::reauthentication`](crate::AuthStore::reauthentication) and emits
//!    [`AuthEvent::ReauthenticationRequired`](crate::AuthEvent::ReauthenticationRequired);
//!    every other challenged request joins the same wait.
//! 3. The app asks the person (a dialog) and calls
//!    [`AuthEndpoints::reauthenticate`](crate::AuthEndpoints::reauthenticate) — a new access
//!    token with a fresh `auth_time` for the same session, which every tab receives — or
//!    [`AuthEndpoints::cancel_reauthentication`](crate::AuthEndpoints::cancel_reauthentication).
//! 4. Each waiting request is sent once more; on a cancel each fails with
//!    [`ClientError::ReauthenticationCancelled`](crate::ClientError::ReauthenticationCancelled).
//!    A request challenged again is returned as the server's error: never a loop.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::task::{Poll, Waker};

use crate::core::{Arrival, Core};
use crate::error::{ApiError, ClientError};
use crate::events::AuthEvent;
use crate::http::{Method, Request, Response};
use crate::problem::Problem;
use crate::protocol::Protocol;
use crate::send::Prove;
use crate::single_flight::RefreshReason;

/// The error code (and `WWW-Authenticate` error) of a step-up challenge.
pub const INSUFFICIENT_USER_AUTHENTICATION: &str = "insufficient_user_authentication";

/// An RFC 9470 step-up challenge: what the server asks of the next authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StepUp {
    /// `max_age`: how many seconds old the authentication may be, if the server says.
    pub max_age: Option<u64>,
    /// `acr_values`: the authentication context classes asked for, if the server says.
    pub acr_values: Option<String>,
}

impl StepUp {
    /// The challenge of a 401 answer, if it is one (RFC 9470 §3): the `WWW-Authenticate`
    /// error `insufficient_user_authentication`, or that JSON error code.
    pub fn from_response(response: &Response) -> Option<StepUp> {
        if response.status != 401 {
            return None;
        }
        if let Some(www) = response.header("www-authenticate") {
            if www.contains(INSUFFICIENT_USER_AUTHENTICATION) {
                return Some(StepUp::parse(www));
            }
        }
        (ApiError::from_response(response).code == INSUFFICIENT_USER_AUTHENTICATION)
            .then(StepUp::default)
    }

    /// `max_age` and `acr_values` of a `WWW-Authenticate` value.
    pub fn parse(www: &str) -> StepUp {
        let mut challenge = StepUp::default();
        for (i, param) in www.split(',').enumerate() {
            let mut param = param.trim();
            // The first parameter follows the scheme: `Bearer error="…"`.
            if i == 0 {
                if let Some((_, rest)) = param.split_once(' ') {
                    param = rest.trim();
                }
            }
            if let Some(v) = param.strip_prefix("max_age=") {
                challenge.max_age = v.trim_matches('"').parse().ok();
            } else if let Some(v) = param.strip_prefix("acr_values=") {
                challenge.acr_values = Some(v.trim_matches('"').to_owned());
            }
        }
        challenge
    }
}

/// What the client waits for: which request was challenged, and the challenge. The app's
/// dialog says which action the person is confirming from `method` and `url`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReauthenticationRequest {
    /// The challenge.
    pub challenge: StepUp,
    /// The challenged request's method.
    pub method: Method,
    /// The challenged request's URL (as the app wrote it).
    pub url: String,
}

/// How the wait ended, for every request in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepUpOutcome {
    /// Re-authenticated: send once more.
    Done,
    /// The app cancelled.
    Cancelled,
    /// Nobody is signed in any more.
    SignedOut,
}

impl StepUpOutcome {
    /// The error a waiting request fails with, unless re-authenticated.
    pub(crate) fn error(self) -> Option<ClientError> {
        match self {
            StepUpOutcome::Done => None,
            StepUpOutcome::Cancelled => Some(ClientError::ReauthenticationCancelled),
            StepUpOutcome::SignedOut => Some(ClientError::SignedOut),
        }
    }
}

/// One waiting request: how the wait ended, once it has, and the task to wake then.
#[derive(Default)]
struct Waiter {
    outcome: Cell<Option<StepUpOutcome>>,
    waker: Cell<Option<Waker>>,
}

/// The requests waiting for one re-authentication.
#[derive(Default)]
pub(crate) struct StepUpSlot(RefCell<Vec<Rc<Waiter>>>);

impl StepUpSlot {
    /// Joins the wait; `true` for the first request (the one that asks the app).
    fn join(&self) -> (Rc<Waiter>, bool) {
        let waiter = Rc::new(Waiter::default());
        let mut waiting = self.0.borrow_mut();
        waiting.push(waiter.clone());
        (waiter, waiting.len() == 1)
    }

    /// Ends the wait for everyone in it; whether anyone was.
    pub(crate) fn settle(&self, outcome: StepUpOutcome) -> bool {
        let waiting = std::mem::take(&mut *self.0.borrow_mut());
        for waiter in &waiting {
            waiter.outcome.set(Some(outcome));
            if let Some(waker) = waiter.waker.take() {
                waker.wake();
            }
        }
        !waiting.is_empty()
    }
}

impl<P: Protocol> Core<P> {
    /// Waits (single flight) until the app re-authenticates or cancels (module docs, 2–4).
    pub(crate) async fn step_up(&self, challenge: StepUp, request: &Request) -> StepUpOutcome {
        let (answer, first) = self.step_up.join();
        if first {
            let asked = ReauthenticationRequest {
                challenge,
                method: request.method,
                url: request.url.clone(),
            };
            self.state.store.set_reauthentication(Some(asked.clone()));
            self.events
                .emit(AuthEvent::ReauthenticationRequired { request: asked });
        }
        std::future::poll_fn(|cx| match answer.outcome.get() {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                answer.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }

    /// Ends the wait: every waiting request learns `outcome`.
    pub(crate) fn end_step_up(&self, outcome: StepUpOutcome) {
        self.step_up.settle(outcome);
        self.state.store.set_reauthentication(None);
    }

    /// Re-authenticates with `credentials` (the protocol's request, with the access token
    /// and the refresh cookie), takes the new token for the same session (every tab gets it),
    /// then lets the waiting requests go. A refusal (a wrong password) leaves them waiting:
    /// the person may try again, or cancel.
    pub(crate) async fn reauthenticate(
        self: Rc<Self>,
        credentials: Rc<P::SignIn>,
    ) -> Result<(), ClientError> {
        let request = self
            .protocol
            .reauthenticate_request(&credentials)
            .ok_or_else(|| ClientError::Misuse("this backend has no re-authentication".into()))?;
        let token = self.state.token().ok_or(ClientError::SignedOut)?;
        let version = self.state.version();
        let core = self.clone();
        self.with_cookie_lock(move |held| {
            let (core, request, token) = (core.clone(), request.clone(), token.clone());
            async move {
                let response = core
                    .send_locked(request, Some(&token), Prove::WithKey, &held, 1.0)
                    .await
                    .map_err(|e| ClientError::Unavailable(Problem::from_transport(&e)))?;
                if !response.is_success() {
                    return Err(ClientError::Api(core.protocol.api_error(&response)));
                }
                let grant = core
                    .protocol
                    .read_grant(&response)
                    .map_err(ClientError::BadResponse)?;
                if core.state.version() != version {
                    return Err(ClientError::UserChanged);
                }
                core.token_arrived(grant, Arrival::Refreshed(RefreshReason::Reauthenticated));
                core.settle_after_broadcast(&held).await;
                Ok(())
            }
        })
        .await?;
        self.end_step_up(StepUpOutcome::Done);
        Ok(())
    }
}
