//! Sign-out that the server confirms.
//!
//! Locally it is immediate: the access token is forgotten, every tab signs out, and the store
//! says a sign-out is pending. Then the client keeps `POST`ing the logout endpoint (inside the
//! cross-tab lock, with backoff and `Retry-After`) until the server answers 2xx — only then is
//! the user told "You are signed out" (or "…everywhere"). Never before: the HttpOnly cookie
//! and the server-side session live until the server has ended them.
//!
//! **A reload meanwhile** does not sign back in through the still-valid cookie: the pending
//! sign-out is remembered in `localStorage` (the key [`ClientConfig::pending_sign_out_key`],
//! value `here` or `everywhere` — no secret), and the next start resumes the sign-out instead
//! of restoring the session. A new sign-in first finishes (or tries once) the pending sign-out.
//!
//! [`ClientConfig::pending_sign_out_key`]: crate::ClientConfig::pending_sign_out_key

use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;

use crate::backoff::random;
use crate::core::Core;
use crate::problem::Problem;
use crate::state::{AuthState, Notice, SignOutScope};
use crate::tabs::TabMessage;
use crate::transport::HttpRequest;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

impl Core {
    pub(crate) async fn sign_out(self: Rc<Self>, scope: SignOutScope) {
        let (user_id, session_id, bearer) = match self.store.state_untracked() {
            AuthState::SignedIn { user, token } => (
                Some(user.id),
                Some(token.session_id.clone()),
                Some(token.bearer().to_owned()),
            ),
            _ => (None, None, None),
        };
        self.timers.cancel_proactive();
        self.probe.cancel();
        self.store.end(
            None,
            match scope {
                SignOutScope::ThisDevice => "signed out; waiting for the server to confirm",
                SignOutScope::Everywhere => {
                    "signed out everywhere; waiting for the server to confirm"
                }
            },
        );
        self.remember_pending_sign_out(scope);
        self.broadcast(&TabMessage::SignedOut {
            user_id,
            session_id,
            everywhere: scope == SignOutScope::Everywhere,
            session_ended: false,
        });
        self.confirm_sign_out(scope, bearer).await;
    }

    /// The retry loop: until the server confirms, or a new sign-in supersedes this one.
    pub(crate) async fn confirm_sign_out(
        self: Rc<Self>,
        scope: SignOutScope,
        bearer: Option<String>,
    ) {
        let version = self.store.version_untracked();
        let weak = Rc::downgrade(&self);
        drop(self);
        let mut attempt = 0u32;
        loop {
            let Some(core) = weak.upgrade() else { return };
            if core.is_shut_down() || core.store.version_untracked() != version {
                return;
            }
            let problem = match core.logout_once(scope, bearer.clone()).await {
                Ok(()) => return,
                Err(problem) => problem,
            };
            if core.store.version_untracked() != version {
                return;
            }
            core.store.set_problem(Some(problem.clone()));
            let retry_after = problem
                .retry_after_secs()
                .map(|s| std::time::Duration::from_secs(u64::from(s)));
            let wait = core.config.backoff.delay(attempt, random(), retry_after);
            attempt = attempt.saturating_add(1);
            drop(core);
            TimeoutFuture::new(u32::try_from(wait.as_millis()).unwrap_or(u32::MAX)).await;
        }
    }

    /// One `POST` of the logout endpoint inside the lock; on 2xx the sign-out is confirmed.
    pub(crate) async fn logout_once(
        self: &Rc<Self>,
        scope: SignOutScope,
        bearer: Option<String>,
    ) -> Result<(), Problem> {
        let core = self.clone();
        self.with_cookie_lock(move || {
            let (core, bearer) = (core.clone(), bearer.clone());
            async move { core.logout_holding_lock(scope, bearer).await }
        })
        .await
    }

    pub(crate) async fn logout_holding_lock(
        self: &Rc<Self>,
        scope: SignOutScope,
        bearer: Option<String>,
    ) -> Result<(), Problem> {
        let endpoints = &self.config.endpoints;
        let mut request = HttpRequest::post(match scope {
            SignOutScope::ThisDevice => endpoints.logout,
            SignOutScope::Everywhere => endpoints.logout_everywhere,
        });
        request.bearer = bearer;
        match self.send(request).await {
            Ok(r) if (200..300).contains(&r.status) => {
                self.sign_out_confirmed(scope);
                Ok(())
            }
            Ok(r) => Err(Problem::from_response(&r)),
            Err(e) => Err(Problem::from_transport(&e)),
        }
    }

    fn sign_out_confirmed(&self, scope: SignOutScope) {
        self.forget_pending_sign_out();
        if matches!(self.store.state_untracked(), AuthState::SignedOut) {
            self.store.set_pending_sign_out(None);
            self.store.set_problem(None);
            self.store.set_notice(Some(match scope {
                SignOutScope::ThisDevice => Notice::SignedOut,
                SignOutScope::Everywhere => Notice::SignedOutEverywhere,
            }));
        }
        self.broadcast(&TabMessage::SignOutConfirmed {
            everywhere: scope == SignOutScope::Everywhere,
        });
    }

    fn remember_pending_sign_out(&self, scope: SignOutScope) {
        self.store.set_pending_sign_out(Some(scope));
        if let (Some(key), Some(storage)) = (&self.config.pending_sign_out_key, local_storage()) {
            let value = match scope {
                SignOutScope::ThisDevice => "here",
                SignOutScope::Everywhere => "everywhere",
            };
            let _ = storage.set_item(key, value);
        }
    }

    pub(crate) fn forget_pending_sign_out(&self) {
        if let (Some(key), Some(storage)) = (&self.config.pending_sign_out_key, local_storage()) {
            let _ = storage.remove_item(key);
        }
    }

    /// A sign-out a previous page left waiting, if any.
    pub(crate) fn remembered_sign_out(&self) -> Option<SignOutScope> {
        let key = self.config.pending_sign_out_key.as_ref()?;
        match local_storage()?.get_item(key).ok().flatten()?.as_str() {
            "everywhere" => Some(SignOutScope::Everywhere),
            _ => Some(SignOutScope::ThisDevice),
        }
    }
}
