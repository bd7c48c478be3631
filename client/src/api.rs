//! **Where the 401 retry happens**: [`ApiClient`], the handle for Bearer-authenticated calls.
//!
//! [`ApiClient::send`], top-down:
//! 1. waits for a refresh that is already running instead of sending a token about to be
//!    replaced;
//! 2. resolves the URL and refuses — before anything is sent — an origin that may not receive
//!    the token, or a cookie endpoint ([`crate::http::target`]);
//! 3. sends with `Authorization: Bearer <access token>` (or `DPoP <access token>` and a
//!    proof, for a token bound to this browser's key: [`crate::send`]) and a deadline;
//! 4. on a 401, refreshes **once** (single flight, [`crate::refresh`]) — or takes the token
//!    another request or tab already got — and retries **once**. A second 401 is returned as
//!    an error: no loop;
//! 5. drops any answer that arrives after the sign-in changed (another user, a sign-out):
//!    [`ClientError::UserChanged`], so one user's data never reaches another's view;
//! 6. on a step-up challenge (RFC 9470: the sign-in is too old for this action) waits for the
//!    person to confirm it is them ([`crate::step_up`]) and sends the request **once** more.

use std::rc::Rc;

use serde::de::DeserializeOwned;

use crate::auth_state::AuthState;
use crate::core::Core;
use crate::error::ClientError;
use crate::http::{Request, Response, TransportError};
use crate::problem::Problem;
use crate::protocol::Protocol;
use crate::send::Prove;
use crate::single_flight::{RefreshOutcome, RefreshReason};
use crate::step_up::StepUp;
use crate::timeline::TimelineKind;
use crate::token::AccessToken;

/// The most pages [`ApiClient::get_json_pages`] fetches for one list.
pub const MAX_PAGES: usize = 50;

/// Bearer calls to the API. Cheap to clone.
pub struct ApiClient<P: Protocol> {
    pub(crate) core: Rc<Core<P>>,
}

impl<P: Protocol> Clone for ApiClient<P> {
    fn clone(&self) -> Self {
        ApiClient {
            core: self.core.clone(),
        }
    }
}

impl<P: Protocol> ApiClient<P> {
    /// Sends `request` with the access token; on 401 refreshes once and retries once. An
    /// answer below 400 is `Ok`; 5xx is [`ClientError::Unavailable`] (the client probes until
    /// the server is back, then emits `AuthEvent::Recovered`); any other status is
    /// [`ClientError::Api`].
    pub async fn send(&self, request: Request) -> Result<Response, ClientError> {
        let core = &self.core;
        if let Some(refresh) = core.refresh_slot.running() {
            refresh.await;
        }
        let (user, token) = match core.state.auth() {
            AuthState::SignedIn { user, token } => (user, token),
            AuthState::Restoring => {
                let problem = core.state.problem().unwrap_or(Problem::Unreachable);
                return Err(ClientError::Unavailable(problem));
            }
            AuthState::SignedOut => return Err(ClientError::SignedOut),
        };
        let version = core.state.version();
        let unchanged = || core.state.version() == version && core.state.user_is(&user);

        let first = self.answer(
            core.send_prepared(
                self.with_token(&request, &token)?,
                Prove::for_token(&token),
                core.config.request_timeout,
            )
            .await,
        )?;
        if !unchanged() {
            return Err(ClientError::UserChanged);
        }
        if first.status != 401 {
            return self.finish(first);
        }
        // A step-up challenge is not a stale token: no refresh, the person confirms instead.
        if let Some(challenge) = core.protocol.step_up_challenge(&first) {
            return self.after_step_up(&request, challenge, unchanged).await;
        }
        // Another request (or tab) may have refreshed meanwhile: then just use its token.
        let retry_token = match core.state.token() {
            Some(current) if current.bearer() != token.bearer() => current,
            _ => match core.refresh(RefreshReason::After401).await {
                RefreshOutcome::Refreshed => core.state.token().ok_or(ClientError::SignedOut)?,
                RefreshOutcome::Ended => return Err(ClientError::SessionEnded),
                RefreshOutcome::Unavailable(problem) => {
                    return Err(ClientError::Unavailable(problem))
                }
                RefreshOutcome::Stale => return Err(ClientError::UserChanged),
            },
        };
        // Never re-send a request as somebody else, or under a newer sign-in.
        if !unchanged() {
            return Err(ClientError::UserChanged);
        }
        core.state.store.log(
            TimelineKind::Retry,
            &[&request.url, " retried once with the new token"].concat(),
        );
        let second = self.answer(
            core.send_prepared(
                self.with_token(&request, &retry_token)?,
                Prove::for_token(&retry_token),
                core.config.request_timeout,
            )
            .await,
        )?;
        if !unchanged() {
            return Err(ClientError::UserChanged);
        }
        if let Some(challenge) = core.protocol.step_up_challenge(&second) {
            return self.after_step_up(&request, challenge, unchanged).await;
        }
        self.finish(second)
    }

    /// Step 6: a step-up challenge waits for the re-authentication ([`crate::step_up`]), then
    /// the request goes out once more with the new token — once: a second challenge is the
    /// server's answer, not a reason to ask again.
    async fn after_step_up(
        &self,
        request: &Request,
        challenge: StepUp,
        unchanged: impl Fn() -> bool,
    ) -> Result<Response, ClientError> {
        let core = &self.core;
        if let Some(error) = core.step_up(challenge, request).await.error() {
            return Err(error);
        }
        if !unchanged() {
            return Err(ClientError::UserChanged);
        }
        let token = core.state.token().ok_or(ClientError::SignedOut)?;
        core.state.store.log(
            TimelineKind::Retry,
            &[&request.url, " sent once more after confirming it is you"].concat(),
        );
        let again = self.answer(
            core.send_prepared(
                self.with_token(request, &token)?,
                Prove::for_token(&token),
                core.config.request_timeout,
            )
            .await,
        )?;
        if !unchanged() {
            return Err(ClientError::UserChanged);
        }
        self.finish(again)
    }

    /// `GET url` and decode the JSON answer through serde.
    pub async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ClientError> {
        self.send_json(Request::get(url)).await
    }

    /// Sends `request` and decodes the JSON answer through serde.
    pub async fn send_json<T: DeserializeOwned>(&self, request: Request) -> Result<T, ClientError> {
        self.send(request)
            .await?
            .json()
            .map_err(ClientError::BadResponse)
    }

    /// `GET url` for a paginated list (a JSON array per page, the next page named by a
    /// `Link: <…>; rel="next"` header): follows the links and returns every item, in order.
    /// A next link to another origin is not followed ([`ClientError::Misuse`]: the token
    /// stays home). Stops after [`MAX_PAGES`] pages, so a misbehaving server cannot keep it
    /// looping.
    pub async fn get_json_pages<T: DeserializeOwned>(
        &self,
        url: &str,
    ) -> Result<Vec<T>, ClientError> {
        self.get_pages(url, Response::json).await
    }

    /// [`ApiClient::get_json_pages`] with the app's own `decode` for each page's answer (for
    /// types that are not read through serde).
    pub async fn get_pages<T>(
        &self,
        url: &str,
        decode: impl Fn(&Response) -> Result<Vec<T>, String>,
    ) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut next = Some(url.to_owned());
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else { break };
            let response = self.send(Request::get(url.as_str())).await?;
            let page = decode(&response).map_err(ClientError::BadResponse)?;
            items.extend(page);
            next = match response.next_link() {
                None => None,
                Some(link) => Some(self.core.targets.next_page(&url, &link).ok_or_else(|| {
                    ClientError::Misuse(
                        [
                            "the next page (",
                            &link,
                            ") is on another origin; not followed",
                        ]
                        .concat(),
                    )
                })?),
            };
        }
        Ok(items)
    }

    /// `DELETE url`.
    pub async fn delete(&self, url: &str) -> Result<(), ClientError> {
        self.send(Request::delete(url)).await.map(|_| ())
    }

    /// `request` with `token`, if it may go where it goes (nothing is sent otherwise).
    fn with_token(&self, request: &Request, token: &AccessToken) -> Result<Request, ClientError> {
        self.core
            .prepare(request.clone(), Some(token), true)
            .map_err(ClientError::Misuse)
    }

    /// An answer, or the problem that no answer stands for.
    fn answer(&self, sent: Result<Response, TransportError>) -> Result<Response, ClientError> {
        sent.map_err(|error| {
            let problem = Problem::from_transport(&error);
            self.core.went_unavailable(problem.clone());
            ClientError::Unavailable(problem)
        })
    }

    fn finish(&self, response: Response) -> Result<Response, ClientError> {
        let core = &self.core;
        match response.status {
            0..=399 => {
                if core.state.problem().is_some() {
                    core.probe_now();
                }
                Ok(response)
            }
            500..=599 => {
                let problem = Problem::from_response(&response);
                core.went_unavailable(problem.clone());
                Err(ClientError::Unavailable(problem))
            }
            _ => Err(ClientError::Api(core.protocol.api_error(&response))),
        }
    }
}
