//! **Where rotation is asked for**: one refresh at a time per tab, one at a time across tabs,
//! and never for a sign-in that has ended.
//!
//! 1. [`Core::refresh`] is **single flight** ([`crate::single_flight`]): while a refresh runs,
//!    every caller (concurrent 401s, the proactive timer, the probe) gets the same future.
//! 2. It takes the cross-tab lock ([`crate::lock`]); waiting is bounded, after which the tab
//!    proceeds without it.
//! 3. Holding the lock it **re-checks** before sending: is the sign-in still the one the
//!    refresh was asked for ([`SessionVersion`](crate::SessionVersion))? Is a sign-out
//!    pending? Did another tab already refresh and tell us? Only then does it send the
//!    protocol's refresh request; the HttpOnly cookie goes along by itself and comes back
//!    rotated.
//! 4. The answer is applied only under the same version, and judged by the protocol
//!    ([`RefreshVerdict`]): a grant is handed to [`Core::token_arrived`] (which broadcasts it
//!    **before the lock is released**); a final refusal ends the session in every tab;
//!    anything else is a [`Problem`](crate::Problem): the session is kept and
//!    [`crate::recovery`] retries with backoff.

use std::rc::Rc;

use futures::future::FutureExt;

use crate::auth_state::{Notice, SessionVersion};
use crate::core::{Arrival, Core};
use crate::events::{AuthEvent, RefreshFailure, SignOutReason};
use crate::lock::Held;
use crate::problem::Problem;
use crate::protocol::{Protocol, RefreshVerdict};
use crate::send::Prove;
use crate::single_flight::{RefreshFuture, RefreshOutcome, RefreshReason};
use crate::tabs::{TabMessage, TabSignOut};
use crate::time::Instant;
use crate::timeline::TimelineKind;

/// The tab as it was when the refresh was asked for.
#[derive(Clone)]
struct Asked {
    version: SessionVersion,
    token: Option<String>,
    restoring: bool,
}

impl<P: Protocol> Core<P> {
    /// Refreshes the access token (single flight; see the module docs). The refresh runs even
    /// if nobody awaits the returned future.
    pub(crate) fn refresh(self: &Rc<Self>, reason: RefreshReason) -> RefreshFuture {
        // Taken now, not when the future first runs: a sign-out in between makes it stale.
        let asked = Asked {
            version: self.state.version(),
            token: self.state.token().map(|t| t.bearer().to_owned()),
            restoring: self.state.is_restoring(),
        };
        let core = self.clone();
        self.refresh_slot.join_or_start(move || {
            async move {
                let locked = core.clone();
                let outcome = core
                    .with_cookie_lock(move |held| {
                        let (core, asked) = (locked.clone(), asked.clone());
                        async move { core.refresh_holding_lock(reason, asked, held).await }
                    })
                    .await;
                core.refresh_slot.finished();
                outcome
            }
            .boxed_local()
        })
    }

    /// Starts a refresh (or joins the running one) without waiting for it.
    pub(crate) fn refresh_in_background(self: &Rc<Self>, reason: RefreshReason) {
        drop(self.refresh(reason));
    }

    /// Steps 3 and 4 of the module docs.
    async fn refresh_holding_lock(
        self: &Rc<Self>,
        reason: RefreshReason,
        asked: Asked,
        held: Held,
    ) -> RefreshOutcome {
        if self.is_shut_down()
            || self.state.version() != asked.version
            || self.state.pending_sign_out().is_some()
        {
            return RefreshOutcome::Stale;
        }
        if let Some(token) = self.state.token() {
            let fresh =
                token.remaining_ms(&Instant::now()) > self.config.margin_ms(token.lifetime_ms());
            if asked.token.as_deref() != Some(token.bearer()) && fresh {
                self.state.store.log(
                    TimelineKind::CrossTab,
                    "another tab refreshed first; using its token",
                );
                return RefreshOutcome::Refreshed;
            }
        }

        self.state.store.count_refresh();
        let request = self.protocol.refresh_request(asked.restoring);
        let answer = self
            .send_locked(request, None, Prove::WithKey, &held, 1.0)
            .await;
        if self.state.version() != asked.version || self.is_shut_down() {
            return RefreshOutcome::Stale;
        }
        // Refused for want of a proof this tab had no key to make: the session is bound to a
        // key this browser no longer has (IndexedDB unavailable, or cleared). It cannot go on.
        let key_lost = self.prover.as_ref().is_some_and(|p| p.missing_key())
            && matches!(&answer, Ok(r) if matches!(r.status, 400 | 401)
                && self.protocol.api_error(r).code == "invalid_dpop_proof");
        let verdict = match answer {
            Ok(_) if key_lost => RefreshVerdict::Ended {
                code: "dpop_key_lost".into(),
            },
            Ok(response) => self.protocol.refresh_verdict(&response, asked.restoring),
            Err(error) => RefreshVerdict::Unavailable(Problem::from_transport(&error)),
        };
        let notice = Notice::DpopKeyLost;
        match verdict {
            RefreshVerdict::Granted(grant) => {
                self.probe.owe_refresh(false);
                self.token_arrived(grant, Arrival::Refreshed(reason));
                self.settle_after_broadcast(&held).await;
                RefreshOutcome::Refreshed
            }
            // No session (any more): its DPoP key, if any, proves nothing now; the next
            // sign-in makes a new one (after a replayed token or another key, it must).
            RefreshVerdict::NoSession => {
                self.signed_out_here(None, "no session to restore", SignOutReason::NoSession);
                self.forget_dpop_key().await;
                RefreshOutcome::Ended
            }
            RefreshVerdict::Ended { code } if asked.restoring => {
                let detail = ["no session to restore (", &code, ")"].concat();
                let notice = key_lost.then_some(notice);
                self.signed_out_here(notice, &detail, SignOutReason::NoSession);
                self.forget_dpop_key().await;
                RefreshOutcome::Ended
            }
            // Only this tab lacks the key (it lived in another tab's memory, without
            // IndexedDB): the session itself may go on there, so nobody else is told.
            RefreshVerdict::Ended { code } if key_lost => {
                let detail = ["refresh refused (", &code, ")"].concat();
                self.signed_out_here(Some(notice), &detail, SignOutReason::SessionEnded { code });
                RefreshOutcome::Ended
            }
            RefreshVerdict::Ended { code } => {
                self.ended_by_server(code);
                self.forget_dpop_key().await;
                RefreshOutcome::Ended
            }
            RefreshVerdict::Unavailable(problem) => {
                self.probe.owe_refresh(true);
                self.events.emit(AuthEvent::RefreshFailed {
                    failure: RefreshFailure::Temporary(problem.clone()),
                });
                self.went_unavailable(problem.clone());
                RefreshOutcome::Unavailable(problem)
            }
        }
    }

    /// The server refused the refresh token: the session is over, here and in every tab.
    fn ended_by_server(&self, code: String) {
        let (user, session_id) = (
            self.state.user(),
            self.state
                .token()
                .and_then(|t| t.session_id().map(str::to_owned)),
        );
        self.events.emit(AuthEvent::RefreshFailed {
            failure: RefreshFailure::Final { code: code.clone() },
        });
        self.signed_out_here(
            Some(Notice::SessionEnded),
            &["refresh refused (", &code, ")"].concat(),
            SignOutReason::SessionEnded { code },
        );
        self.broadcast(&TabMessage::SignedOut {
            user,
            session_id,
            how: TabSignOut::SessionEnded,
        });
    }
}
