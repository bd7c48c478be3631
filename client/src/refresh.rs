//! Where the refresh happens: one at a time per tab, one at a time across tabs, and never for
//! a sign-in that has ended.
//!
//! 1. [`Core::refresh`] is **single flight**: while a refresh runs, every caller (concurrent
//!    401s, the proactive timer, the probe) gets the same shared future.
//! 2. It takes the cross-tab Web Lock ([`crate::lock`]); waiting is bounded, after which the
//!    tab proceeds without it.
//! 3. Holding the lock it **re-checks** before sending: is the sign-in still the one the refresh
//!    was asked for ([`SessionVersion`](crate::SessionVersion))? Did another tab already
//!    refresh and tell us? Only then does it `POST` the refresh endpoint; the HttpOnly cookie
//!    goes along by itself and comes back rotated.
//! 4. The answer is applied only under the same version, broadcast to the other tabs **before
//!    the lock is released**, and classified: only `401` with `invalid_refresh_token`,
//!    `refresh_token_reused` or `session_expired` ends the session; anything else (no answer,
//!    timeout, 429, 408, 404, 403, 5xx) is a [`Problem`]: the session is kept and
//!    [`crate::probe`] retries with backoff.

use std::rc::Rc;

use futures::future::{FutureExt, LocalBoxFuture, Shared};
use tokenpair_api::{codes, TokenResponse};

use crate::core::Core;
use crate::events::EventKind;
use crate::problem::Problem;
use crate::state::{AuthState, Notice, SessionVersion};
use crate::tabs::TabMessage;
use crate::transport::{HttpRequest, HttpResponse};

/// How a refresh ended; every caller waiting on the same refresh sees the same outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A fresh access token is in the store (from the server, or from another tab).
    Refreshed,
    /// The server refused the refresh token: signed out.
    Ended,
    /// A transient problem; the session is kept and retried.
    Unavailable(Problem),
    /// The sign-in changed (sign-out, another sign-in) before or while the refresh ran:
    /// nothing was sent, or the answer was discarded.
    Stale,
}

/// Why a refresh was asked for (for the timeline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefreshReason {
    /// At boot: restore the session through the cookie.
    Restore,
    /// Shortly before the access token expires.
    Proactive,
    /// A request got 401.
    After401,
    /// Retrying after a problem.
    Retry,
}

pub(crate) type RefreshFuture = Shared<LocalBoxFuture<'static, RefreshOutcome>>;

/// The tab as it was when the refresh was asked for.
#[derive(Clone)]
struct Asked {
    version: SessionVersion,
    token: Option<String>,
    restoring: bool,
}

/// The refresh codes that end a session. Nothing else does.
fn ends_session(response: &HttpResponse) -> Option<String> {
    if response.status != 401 {
        return None;
    }
    let body = crate::wire::decode::<tokenpair_api::ErrorBody>(&response.body).ok()?;
    [
        codes::INVALID_REFRESH_TOKEN,
        codes::REFRESH_TOKEN_REUSED,
        codes::SESSION_EXPIRED,
    ]
    .contains(&body.error.as_str())
    .then_some(body.error)
}

impl Core {
    /// Refreshes the access token (single flight; see the module docs). The refresh runs even
    /// if nobody awaits the returned future.
    pub(crate) fn refresh(self: &Rc<Self>, reason: RefreshReason) -> RefreshFuture {
        if let Some(running) = self.inflight.borrow().as_ref() {
            return running.clone();
        }
        // Taken now, not when the future first runs: a sign-out in between makes it stale.
        let asked = Asked {
            version: self.store.version_untracked(),
            token: self.store.token_untracked().map(|t| t.bearer().to_owned()),
            restoring: self.store.is_restoring_untracked(),
        };
        let core = self.clone();
        let future = async move {
            let outcome = core.refresh_with_lock(reason, asked).await;
            core.inflight.borrow_mut().take();
            outcome
        }
        .boxed_local()
        .shared();
        *self.inflight.borrow_mut() = Some(future.clone());
        let driver = future.clone();
        wasm_bindgen_futures::spawn_local(async move {
            driver.await;
        });
        future
    }

    /// Starts a refresh (or joins the running one) without waiting for it.
    pub(crate) fn refresh_in_background(self: &Rc<Self>, reason: RefreshReason) {
        drop(self.refresh(reason));
    }

    async fn refresh_with_lock(
        self: &Rc<Self>,
        reason: RefreshReason,
        asked: Asked,
    ) -> RefreshOutcome {
        let core = self.clone();
        self.with_cookie_lock(move || {
            let (core, asked) = (core.clone(), asked.clone());
            async move { core.refresh_holding_lock(reason, asked).await }
        })
        .await
    }

    /// Steps 3 and 4 of the module docs.
    async fn refresh_holding_lock(
        self: &Rc<Self>,
        reason: RefreshReason,
        asked: Asked,
    ) -> RefreshOutcome {
        if self.is_shut_down()
            || self.store.version_untracked() != asked.version
            || self.store.pending_sign_out_untracked().is_some()
        {
            return RefreshOutcome::Stale;
        }
        if let Some(token) = self.store.token_untracked() {
            let fresh = token.remaining_ms(&crate::clock::Instant::now())
                > self.config.margin_ms(token.lifetime_ms());
            if asked.token.as_deref() != Some(token.bearer()) && fresh {
                self.store.log(
                    EventKind::CrossTab,
                    "another tab refreshed first; using its token",
                );
                return RefreshOutcome::Refreshed;
            }
        }

        self.store.count_refresh();
        let path = if asked.restoring {
            self.config.endpoints.restore
        } else {
            self.config.endpoints.refresh
        };
        let answer = self.send(HttpRequest::post(path)).await;
        if self.store.version_untracked() != asked.version || self.is_shut_down() {
            return RefreshOutcome::Stale;
        }
        let problem = match answer {
            Ok(response) if response.status == 200 => {
                match crate::wire::decode::<TokenResponse>(&response.body) {
                    Ok(tokens) => {
                        self.apply_refreshed(&tokens, reason);
                        self.probe.refresh_owed.set(false);
                        self.recovered();
                        self.schedule_proactive();
                        self.broadcast(&TabMessage::Token { response: tokens });
                        self.settle_after_broadcast().await;
                        return RefreshOutcome::Refreshed;
                    }
                    Err(_) => Problem::BadAnswer,
                }
            }
            // The restore found no cookie at all: nobody is signed in, and that is fine.
            Ok(response) if response.status == 204 && asked.restoring => {
                self.probe.refresh_owed.set(false);
                self.end_after_refusal(true, "no refresh cookie");
                return RefreshOutcome::Ended;
            }
            Ok(response) => match ends_session(&response) {
                Some(code) => {
                    self.probe.refresh_owed.set(false);
                    self.end_after_refusal(asked.restoring, &code);
                    return RefreshOutcome::Ended;
                }
                None => Problem::from_response(&response),
            },
            Err(error) => Problem::from_transport(&error),
        };
        self.probe.refresh_owed.set(true);
        self.went_unavailable(problem.clone());
        RefreshOutcome::Unavailable(problem)
    }

    /// A new token: the same sign-in continues, or (restoring, or the cookie now belongs to
    /// another sign-in made in another tab) a sign-in begins with a new version.
    fn apply_refreshed(&self, tokens: &TokenResponse, reason: RefreshReason) {
        match self.store.state_untracked() {
            AuthState::SignedIn { user, token }
                if user.id == tokens.user.id && token.session_id == tokens.session_id =>
            {
                let (kind, detail) = match reason {
                    RefreshReason::Proactive => (
                        EventKind::ProactiveRefresh,
                        "refreshed before the access token expired",
                    ),
                    RefreshReason::After401 => (
                        EventKind::RefreshAfter401,
                        "a request got 401; refreshed once",
                    ),
                    RefreshReason::Retry | RefreshReason::Restore => {
                        (EventKind::ProactiveRefresh, "refreshed after a retry")
                    }
                };
                self.store.replace_token(tokens, kind, detail);
            }
            AuthState::SignedIn { .. } => self.store.begin(
                tokens,
                EventKind::CrossTab,
                "the cookie belongs to a newer sign-in (another tab); switched to it",
            ),
            AuthState::Restoring | AuthState::SignedOut => self.store.begin(
                tokens,
                EventKind::Restored,
                "session restored through the refresh cookie",
            ),
        }
    }

    /// The server refused the refresh token: the session is over.
    fn end_after_refusal(&self, restoring: bool, code: &str) {
        self.timers.cancel_all();
        self.probe.cancel();
        if restoring {
            self.store.end(None, "no session to restore");
            return;
        }
        let (user_id, session_id) = match self.store.state_untracked() {
            AuthState::SignedIn { user, token } => (Some(user.id), Some(token.session_id)),
            _ => (None, None),
        };
        self.store.end(
            Some(Notice::SessionEnded),
            &format!("refresh refused ({code})"),
        );
        self.broadcast(&TabMessage::SignedOut {
            user_id,
            session_id,
            everywhere: false,
            session_ended: true,
        });
    }
}
