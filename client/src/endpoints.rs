//! The cookie endpoints: sign in, register, sign out — [`AuthEndpoints`], a handle separate
//! from the Bearer client, so an auth endpoint can never go through the 401-retry path.
//!
//! Each call that makes the server set or clear the refresh cookie runs inside the same
//! cross-tab lock as the refresh ([`crate::lock`]), so a slow refresh in another tab cannot
//! overwrite a fresh sign-in's cookie; the result is broadcast before the lock is released.

use std::future::Future;
use std::rc::Rc;

use tokenpair_api::{Credentials, TokenResponse};

use crate::core::Core;
use crate::error::ClientError;
use crate::events::EventKind;
use crate::problem::Problem;
use crate::state::SignOutScope;
use crate::tabs::TabMessage;
use crate::transport::HttpRequest;

/// Sign-in, registration and sign-out. Cheap to clone.
#[derive(Clone)]
pub struct AuthEndpoints {
    pub(crate) core: Rc<Core>,
}

impl AuthEndpoints {
    /// Signs in with a username and password. Every tab follows.
    pub fn sign_in(
        &self,
        credentials: &Credentials,
    ) -> impl Future<Output = Result<(), ClientError>> + 'static {
        self.core.clone().sign_in(credentials.clone(), false)
    }

    /// Creates an account and signs in to it. Every tab follows.
    pub fn register(
        &self,
        credentials: &Credentials,
    ) -> impl Future<Output = Result<(), ClientError>> + 'static {
        self.core.clone().sign_in(credentials.clone(), true)
    }

    /// Signs out here and in every tab at once, then keeps asking the server to end the
    /// session (`Everywhere`: every session of the user) until it confirms, with backoff.
    /// Returns when the server confirmed, or when a new sign-in superseded the sign-out.
    /// [`AuthStore::pending_sign_out`](crate::AuthStore::pending_sign_out) says it is waiting.
    pub fn sign_out(&self, scope: SignOutScope) -> impl Future<Output = ()> + 'static {
        self.core.clone().sign_out(scope)
    }
}

impl Core {
    async fn sign_in(
        self: Rc<Self>,
        credentials: Credentials,
        register: bool,
    ) -> Result<(), ClientError> {
        let core = self.clone();
        self.with_cookie_lock(move || {
            let (core, credentials) = (core.clone(), credentials.clone());
            async move { core.sign_in_holding_lock(&credentials, register).await }
        })
        .await
    }

    async fn sign_in_holding_lock(
        self: &Rc<Self>,
        credentials: &Credentials,
        register: bool,
    ) -> Result<(), ClientError> {
        // A sign-out still waiting for the server goes first: the new cookie must not be
        // ended by it, and the old session must not outlive it.
        if let Some(scope) = self.store.pending_sign_out_untracked() {
            let _ = self.logout_holding_lock(scope, None).await;
        }
        let endpoints = &self.config.endpoints;
        let path = if register {
            endpoints.register
        } else {
            endpoints.login
        };
        let response = self
            .send(HttpRequest::post(path).wire_body(credentials))
            .await
            .map_err(|e| ClientError::Unavailable(Problem::from_transport(&e)))?;
        if !(200..300).contains(&response.status) {
            return Err(ClientError::from_response(&response));
        }
        let tokens: TokenResponse =
            crate::wire::decode(&response.body).map_err(ClientError::BadResponse)?;
        let detail = if register {
            "account created and signed in"
        } else {
            "signed in with a password"
        };
        self.store.begin(&tokens, EventKind::SignedIn, detail);
        self.forget_pending_sign_out();
        self.recovered();
        self.broadcast(&TabMessage::SignedIn { response: tokens });
        self.settle_after_broadcast().await;
        self.schedule_proactive();
        Ok(())
    }
}
