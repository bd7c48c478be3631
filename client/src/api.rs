//! Where the 401 retry happens: [`ApiClient`], the handle for Bearer-authenticated calls.
//!
//! [`ApiClient::send`], top-down:
//! 1. refuses the cookie endpoints (`/api/auth/*`): they have their own handle,
//!    [`crate::AuthEndpoints`], and are never intercepted;
//! 2. waits for a refresh that is already running instead of sending a token about to be
//!    replaced;
//! 3. sends with `Authorization: Bearer <access token>` and a deadline;
//! 4. on a 401, refreshes **once** (single flight, [`crate::refresh`]) — or takes the token
//!    another request or tab already got — and retries **once**, but only if the user and the
//!    [`SessionVersion`](crate::SessionVersion) are still the ones the request was sent as.
//!    A second 401 is returned as an error: no loop.

use std::rc::Rc;

use serde::de::DeserializeOwned;

use crate::wire::FromJson;

use crate::core::Core;
use crate::error::ClientError;
use crate::events::EventKind;
use crate::problem::Problem;
use crate::refresh::{RefreshOutcome, RefreshReason};
use crate::state::AuthState;
use crate::transport::{HttpRequest, HttpResponse};

/// The most pages [`ApiClient::get_json_pages`] fetches for one list.
pub const MAX_PAGES: usize = 50;

/// Bearer calls to the API. Cheap to clone.
#[derive(Clone)]
pub struct ApiClient {
    pub(crate) core: Rc<Core>,
}

impl ApiClient {
    /// Sends `request` with the access token; on 401 refreshes once and retries once.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ClientError> {
        let core = &self.core;
        if request.path.starts_with(core.config.endpoints.auth_prefix) {
            return Err(ClientError::Misuse(
                "the cookie endpoints are sent through AuthEndpoints, not the Bearer client",
            ));
        }
        let running = core.inflight.borrow().clone();
        if let Some(refresh) = running {
            refresh.await;
        }
        let (user_id, token) = match core.store.state_untracked() {
            AuthState::SignedIn { user, token } => (user.id, token),
            AuthState::Restoring => {
                let problem = core
                    .store
                    .problem_untracked()
                    .unwrap_or(Problem::Unreachable);
                return Err(ClientError::Unavailable(problem));
            }
            AuthState::SignedOut => return Err(ClientError::SignedOut),
        };
        let version = core.store.version_untracked();
        let unchanged = || {
            core.store.version_untracked() == version
                && core.store.user_id_untracked() == Some(user_id)
        };

        let first = self.send_as(&request, token.bearer()).await?;
        if first.status != 401 {
            return self.finish(first);
        }
        if !unchanged() {
            return Err(ClientError::SignedOut);
        }
        // Another request (or tab) may have refreshed meanwhile: then just use its token.
        let retry_token = match core.store.token_untracked() {
            Some(current) if current.bearer() != token.bearer() => current,
            _ => match core.refresh(RefreshReason::After401).await {
                RefreshOutcome::Refreshed => {
                    core.store.token_untracked().ok_or(ClientError::SignedOut)?
                }
                RefreshOutcome::Ended => return Err(ClientError::SessionEnded),
                RefreshOutcome::Unavailable(problem) => {
                    return Err(ClientError::Unavailable(problem))
                }
                RefreshOutcome::Stale => return Err(ClientError::SignedOut),
            },
        };
        // Never re-send a request as somebody else, or under a newer sign-in.
        if !unchanged() {
            return Err(ClientError::SignedOut);
        }
        core.store.log(
            EventKind::Retry,
            &format!("{} retried once with the new token", request.path),
        );
        let second = self.send_as(&request, retry_token.bearer()).await?;
        self.finish(second)
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self.send(HttpRequest::get(path)).await?;
        crate::json::from_str(&response.body).map_err(ClientError::BadResponse)
    }

    /// `GET path` and decode one of tokenpair-api's wire types without serde
    /// ([`crate::wire`]: a smaller bundle than [`ApiClient::get_json`]).
    pub async fn get_wire<T: FromJson>(&self, path: &str) -> Result<T, ClientError> {
        let response = self.send(HttpRequest::get(path)).await?;
        crate::wire::decode(&response.body).map_err(ClientError::BadResponse)
    }

    /// `GET path` for a paginated list (a JSON array per page, the next page named by a
    /// `Link: <…>; rel="next"` header): follows the links and returns every item, in order.
    /// Stops after [`MAX_PAGES`] pages, so a misbehaving server cannot keep it looping.
    pub async fn get_wire_pages<T: FromJson>(&self, path: &str) -> Result<Vec<T>, ClientError> {
        let mut items = Vec::new();
        let mut next = Some(path.to_owned());
        for _ in 0..MAX_PAGES {
            let Some(path) = next.take() else { break };
            let response = self.send(HttpRequest::get(path)).await?;
            let page: Vec<T> =
                crate::wire::decode(&response.body).map_err(ClientError::BadResponse)?;
            items.extend(page);
            next = response.next_page;
        }
        Ok(items)
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<(), ClientError> {
        self.send(HttpRequest::delete(path)).await.map(|_| ())
    }

    async fn send_as(
        &self,
        request: &HttpRequest,
        token: &str,
    ) -> Result<HttpResponse, ClientError> {
        let mut request = request.clone();
        request.bearer = Some(token.to_owned());
        match self.core.send(request).await {
            Ok(response) => Ok(response),
            Err(error) => {
                let problem = Problem::from_transport(&error);
                self.core.went_unavailable(problem.clone());
                Err(ClientError::Unavailable(problem))
            }
        }
    }

    fn finish(&self, response: HttpResponse) -> Result<HttpResponse, ClientError> {
        match response.status {
            200..=299 => {
                if self.core.store.problem_untracked().is_some() {
                    self.core.probe_now();
                }
                Ok(response)
            }
            500..=599 => {
                let problem = Problem::from_response(&response);
                self.core.went_unavailable(problem.clone());
                Err(ClientError::Unavailable(problem))
            }
            _ => Err(ClientError::from_response(&response)),
        }
    }
}
