//! Signing in: with the app's own credentials through the protocol, or by adopting a session
//! that started elsewhere (an OIDC redirect, an MFA step, a magic link).
//!
//! Both run inside the same cross-tab lock as the refresh ([`crate::lock`]), so a slow
//! refresh in another tab cannot overwrite the new sign-in's cookie, and the new token is
//! broadcast before the lock is released ([`Core::token_arrived`]).

use std::rc::Rc;

use crate::core::{Arrival, Core};
use crate::error::ClientError;
use crate::lock::Held;
use crate::problem::Problem;
use crate::protocol::{Grant, Protocol};
use crate::send::Prove;

impl<P: Protocol> Core<P> {
    pub(crate) async fn sign_in(
        self: Rc<Self>,
        credentials: Rc<P::SignIn>,
    ) -> Result<(), ClientError> {
        let core = self.clone();
        self.with_cookie_lock(move |held| {
            let (core, credentials) = (core.clone(), credentials.clone());
            async move { core.sign_in_holding_lock(&credentials, held).await }
        })
        .await
    }

    async fn sign_in_holding_lock(
        self: &Rc<Self>,
        credentials: &P::SignIn,
        held: Held,
    ) -> Result<(), ClientError> {
        // A sign-out still waiting for the server goes first, with the old cookie: the new
        // cookie must not be ended by it, and the old session must not outlive it. It gets
        // half of the lock's budget at most, so the sign-in still has time.
        if let Some(scope) = self.state.pending_sign_out() {
            let _ = self.logout_holding_lock(scope, None, &held, 0.5).await;
        }
        let request = self.protocol.sign_in_request(credentials);
        let response = self
            .send_locked(request, None, Prove::MakingKey, &held, 1.0)
            .await
            .map_err(|e| ClientError::Unavailable(Problem::from_transport(&e)))?;
        if !response.is_success() {
            return Err(ClientError::Api(self.protocol.api_error(&response)));
        }
        let grant = self
            .protocol
            .read_grant(&response)
            .map_err(ClientError::BadResponse)?;
        self.pending.forget();
        self.token_arrived(grant, Arrival::SignedIn("signed in"));
        self.settle_after_broadcast(&held).await;
        Ok(())
    }

    /// A session started elsewhere: its refresh cookie is already set, `grant` is its first
    /// token. A pending sign-out is dropped without posting (it would end this new session).
    pub(crate) async fn adopt(self: Rc<Self>, grant: Grant<P::User>) {
        let core = self.clone();
        self.with_cookie_lock(move |held| {
            let (core, grant) = (core.clone(), grant.clone());
            async move {
                core.pending.forget();
                core.token_arrived(
                    grant,
                    Arrival::SignedIn("adopted a session started elsewhere"),
                );
                core.settle_after_broadcast(&held).await;
            }
        })
        .await
    }
}
