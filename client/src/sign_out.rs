//! Sign-out that the server confirms.
//!
//! Locally it is immediate: the access token is forgotten, every tab signs out, and the store
//! says a sign-out is pending. Then the client keeps sending the protocol's logout request
//! (inside the cross-tab lock, with backoff and `Retry-After`) until the server answers. Only
//! then is the user told "You are signed out" (or "…everywhere"): the HttpOnly cookie and the
//! server-side session live until the server has ended them.
//!
//! * **Only what may pass is retried**: no answer, a timeout, 408, 429, 5xx. "Already ended"
//!   counts as done. Any other refusal stops the loop and says so
//!   ([`Notice::SignOutRefused`]) — signed out here, but the session may live on.
//! * **A retry never ends a later sign-in.** The loop re-checks *under the lock*, right before
//!   each attempt, that its sign-in version is still current and that the pending marker
//!   ([`crate::pending_sign_out`]) is still set: a sign-in (here or in another tab, which
//!   holds the same lock and clears the marker before releasing it) or another tab's
//!   confirmation stops the loop before it can post the new cookie.
//! * **A reload meanwhile** resumes the sign-out instead of signing back in through the
//!   still-valid cookie (the marker survives reloads). A new sign-in first finishes (or tries
//!   once) the pending sign-out, with the old cookie.

use std::rc::Rc;

use crate::auth_state::{Notice, SessionVersion, SignOutScope};
use crate::backoff::random;
use crate::core::Core;
use crate::events::SignOutReason;
use crate::lock::Held;
use crate::pending_sign_out::Step;
use crate::problem::Problem;
use crate::protocol::Protocol;
use crate::send::Prove;
use crate::step_up::StepUpOutcome;
use crate::tabs::{TabMessage, TabSignOut};
use crate::timeline::TimelineKind;
use crate::token::AccessToken;

/// What the server said to "sign out everywhere" while this tab was still signed in.
enum Asked {
    /// Nothing final yet (no answer, or a re-authentication just happened): the retry loop
    /// sends it.
    NotYet,
    /// Its final answer.
    Answered(Step),
    /// It wanted a re-authentication, and that was cancelled: nothing changed.
    Cancelled,
}

impl<P: Protocol> Core<P> {
    pub(crate) async fn sign_out(self: Rc<Self>, scope: SignOutScope) {
        // Signing out everywhere asks the server first, while still signed in: it may want the
        // person to confirm it is them (a step-up, [`crate::step_up`]) — and a cancel must
        // leave everything as it was.
        let answered = match scope {
            SignOutScope::Everywhere => match self.ask_to_end_every_session().await {
                Asked::Cancelled => return,
                Asked::Answered(step) => Some(step),
                Asked::NotYet => None,
            },
            SignOutScope::ThisDevice => None,
        };
        let token = self.state.token();
        let user = self.state.user();
        let session_id = token
            .as_ref()
            .and_then(|t| t.session_id().map(str::to_owned));
        self.signed_out_here(
            None,
            match scope {
                SignOutScope::ThisDevice => "signed out; waiting for the server to confirm",
                SignOutScope::Everywhere => {
                    "signed out everywhere; waiting for the server to confirm"
                }
            },
            SignOutReason::ByUser { scope },
        );
        self.pending.remember(scope);
        self.state.set_pending_sign_out(Some(scope));
        self.broadcast(&TabMessage::SignedOut {
            user,
            session_id,
            how: TabSignOut::ByUser(scope),
        });
        self.confirm_sign_out(scope, token, answered).await;
    }

    /// "Sign out everywhere", sent once while still signed in (with the token and the
    /// cookie). A step-up challenge waits for the re-authentication; then the retry loop sends
    /// it once more, with the new token.
    async fn ask_to_end_every_session(self: &Rc<Self>) -> Asked {
        let (Some(token), Some(request)) = (
            self.state.token(),
            self.protocol.logout_request(SignOutScope::Everywhere),
        ) else {
            return Asked::NotYet;
        };
        let core = self.clone();
        let sent = {
            let request = request.clone();
            self.with_cookie_lock(move |held| {
                let (core, request, token) = (core.clone(), request.clone(), token.clone());
                async move {
                    core.send_locked(request, Some(&token), Prove::WithKey, &held, 1.0)
                        .await
                }
            })
            .await
        };
        let Ok(response) = sent else {
            return Asked::NotYet;
        };
        if let Some(challenge) = self.protocol.step_up_challenge(&response) {
            return match self.step_up(challenge, &request).await {
                StepUpOutcome::Done => Asked::NotYet,
                StepUpOutcome::Cancelled | StepUpOutcome::SignedOut => Asked::Cancelled,
            };
        }
        match Step::from(self.protocol.logout_verdict(&response)) {
            Step::Retry(_) => Asked::NotYet,
            step => Asked::Answered(step),
        }
    }

    /// The retry loop: until the server confirms or refuses, or a new sign-in (or another
    /// tab) makes it moot. `answered`: the server's final answer, if it came before this tab
    /// signed out (then it is only applied, under the lock).
    pub(crate) async fn confirm_sign_out(
        self: Rc<Self>,
        scope: SignOutScope,
        token: Option<AccessToken>,
        mut answered: Option<Step>,
    ) {
        let version = self.state.version();
        let weak = Rc::downgrade(&self);
        drop(self);
        let mut attempt = 0u32;
        loop {
            let Some(core) = weak.upgrade() else { return };
            let problem = match core
                .logout_once(scope, token.clone(), version, answered.take())
                .await
            {
                Some(Step::Retry(problem)) => problem,
                Some(Step::Confirmed | Step::Refused { .. }) | None => return,
            };
            if !core.still_signing_out(version) {
                return;
            }
            core.state.set_problem(Some(problem.clone()));
            let wait = core
                .config
                .backoff
                .delay(attempt, random(), problem.retry_after());
            attempt = attempt.saturating_add(1);
            drop(core);
            crate::time::sleep(wait).await;
        }
    }

    /// Whether the sign-out of `version` is still this tab's to finish.
    fn still_signing_out(&self, version: SessionVersion) -> bool {
        !self.is_shut_down()
            && self.state.version() == version
            && self.state.pending_sign_out().is_some()
            && self.pending.still_waiting()
    }

    /// One attempt inside the lock, if the sign-out is still this tab's to finish once the
    /// lock is held (`None` otherwise: nothing was sent). An `answered` logout is only applied.
    async fn logout_once(
        self: &Rc<Self>,
        scope: SignOutScope,
        token: Option<AccessToken>,
        version: SessionVersion,
        answered: Option<Step>,
    ) -> Option<Step> {
        let core = self.clone();
        self.with_cookie_lock(move |held| {
            let (core, token, answered) = (core.clone(), token.clone(), answered.clone());
            async move {
                if !core.still_signing_out(version) {
                    return None;
                }
                Some(match answered {
                    Some(step) => {
                        core.apply_logout_step(scope, &step).await;
                        step
                    }
                    None => core.logout_holding_lock(scope, token, &held, 1.0).await,
                })
            }
        })
        .await
    }

    /// Sends the logout request (with the old access token too, where the backend accepts it
    /// as a fallback) and applies the answer. Uses `share` of the lock's remaining budget.
    pub(crate) async fn logout_holding_lock(
        self: &Rc<Self>,
        scope: SignOutScope,
        token: Option<AccessToken>,
        held: &Held,
        share: f64,
    ) -> Step {
        // A backend that cannot end every session ends this one.
        let (scope, request) = match self.protocol.logout_request(scope) {
            Some(request) => (scope, request),
            None => match self.protocol.logout_request(SignOutScope::ThisDevice) {
                Some(request) => (SignOutScope::ThisDevice, request),
                None => {
                    return Step::Refused {
                        status: 0,
                        code: "no_logout_endpoint".into(),
                    }
                }
            },
        };
        let step = match self
            .send_locked(request, token.as_ref(), Prove::WithKey, held, share)
            .await
        {
            Ok(response) => Step::from(self.protocol.logout_verdict(&response)),
            Err(error) => Step::Retry(Problem::from_transport(&error)),
        };
        if !matches!(step, Step::Retry(_)) {
            self.apply_logout_step(scope, &step).await;
        }
        step
    }

    /// A final answer to the logout: told here and in the other tabs, and the DPoP key
    /// forgotten. Call it only while holding the cross-tab lock: no other tab's sign-in (and
    /// new key) can come in between.
    async fn apply_logout_step(&self, scope: SignOutScope, step: &Step) {
        match step {
            Step::Confirmed => self.sign_out_confirmed(scope),
            Step::Refused { status, code } => self.sign_out_refused(*status, code),
            Step::Retry(_) => return,
        }
        self.forget_dpop_key().await;
    }

    /// Deletes the DPoP key, if there is one: the next sign-in makes a new one. Call it only
    /// while holding the cross-tab lock.
    pub(crate) async fn forget_dpop_key(&self) {
        let Some(prover) = &self.prover else { return };
        if let Err(why) = prover.forget().await {
            self.state.store.log(TimelineKind::SignedOut, &why);
        }
    }

    fn sign_out_confirmed(&self, scope: SignOutScope) {
        self.pending.forget();
        if self.state.is_signed_out() {
            self.state.set_pending_sign_out(None);
            self.state.set_problem(None);
            self.state.store.set_notice(Some(match scope {
                SignOutScope::ThisDevice => Notice::SignedOut,
                SignOutScope::Everywhere => Notice::SignedOutEverywhere,
            }));
        }
        self.broadcast(&TabMessage::SignOutConfirmed { scope });
    }

    fn sign_out_refused(&self, status: u16, code: &str) {
        self.pending.forget();
        if self.state.is_signed_out() {
            self.state.set_pending_sign_out(None);
            self.state.set_problem(None);
            self.state.store.set_notice(Some(Notice::SignOutRefused {
                status,
                code: code.to_owned(),
            }));
        }
        self.broadcast(&TabMessage::SignOutStopped {
            status,
            code: code.to_owned(),
        });
    }
}
