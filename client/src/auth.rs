//! [`AuthEndpoints`]: sign in, sign out, adopt a session — a handle separate from the Bearer
//! client, so a cookie endpoint can never go through the 401-retry path.

use std::future::Future;
use std::rc::Rc;

use crate::auth_state::SignOutScope;
use crate::core::Core;
use crate::error::ClientError;
use crate::http::Response;
use crate::problem::Problem;
use crate::protocol::{Grant, Protocol};
use crate::send::Prove;

/// Sign-in, sign-out, adopting a session. Cheap to clone.
pub struct AuthEndpoints<P: Protocol> {
    pub(crate) core: Rc<Core<P>>,
}

impl<P: Protocol> Clone for AuthEndpoints<P> {
    fn clone(&self) -> Self {
        AuthEndpoints {
            core: self.core.clone(),
        }
    }
}

impl<P: Protocol> AuthEndpoints<P> {
    /// Signs in with the app's credentials (the protocol builds the request). Every tab
    /// follows. A sign-out still waiting for the server is finished first.
    pub fn sign_in(
        &self,
        credentials: P::SignIn,
    ) -> impl Future<Output = Result<(), ClientError>> + 'static {
        self.core.clone().sign_in(Rc::new(credentials))
    }

    /// Signs out here and in every tab at once, then keeps asking the server to end the
    /// session (`Everywhere`: every session of the user) until it confirms, with backoff (see
    /// [`crate::sign_out`]). Returns when the server confirmed or refused for good, or when a
    /// new sign-in made it moot. `AuthStore::pending_sign_out` says it is waiting.
    pub fn sign_out(&self, scope: SignOutScope) -> impl Future<Output = ()> + 'static {
        self.core.clone().sign_out(scope)
    }

    /// Proves who the person is again (a step-up: their password or a passkey, as the
    /// protocol's [`Protocol::reauthenticate_request`] sends it), takes the new access token
    /// (fresh `auth_time`, same session; every tab gets it), and sends the requests that were
    /// waiting for it once more (see [`crate::AuthStore::reauthentication`]). A refusal — a
    /// wrong password — is returned and the requests keep waiting.
    pub fn reauthenticate(
        &self,
        credentials: P::SignIn,
    ) -> impl Future<Output = Result<(), ClientError>> + 'static {
        self.core.clone().reauthenticate(Rc::new(credentials))
    }

    /// A passkey assertion for a sign-in or a re-authentication: the protocol's options
    /// request, then `navigator.credentials.get` ([`crate::passkey::get`]; `autofill`: from
    /// the username field's suggestions). Pass it to `sign_in` or `reauthenticate` as the
    /// protocol's credentials (tokenpair: `TokenpairSignIn::passkey`).
    pub fn passkey_assertion(
        &self,
        autofill: bool,
    ) -> impl Future<Output = Result<String, ClientError>> + 'static {
        let core = self.core.clone();
        async move {
            let request = core.protocol.passkey_options_request().ok_or_else(|| {
                ClientError::Passkey(crate::passkey::PasskeyError::Unsupported(
                    "this backend has no passkeys".into(),
                ))
            })?;
            let request = core
                .prepare(request, None, false)
                .map_err(ClientError::Misuse)?;
            let response = core
                .send_prepared(request, Prove::No, core.config.request_timeout)
                .await
                .map_err(|e| ClientError::Unavailable(Problem::from_transport(&e)))?;
            if !response.is_success() {
                return Err(ClientError::Api(core.protocol.api_error(&response)));
            }
            crate::passkey::get(&response.text(), autofill)
                .await
                .map_err(ClientError::Passkey)
        }
    }

    /// Gives up the re-authentication: every request waiting for it fails with
    /// [`ClientError::ReauthenticationCancelled`], and nothing they asked for is done.
    pub fn cancel_reauthentication(&self) {
        self.core
            .end_step_up(crate::step_up::StepUpOutcome::Cancelled);
    }

    /// Hands over a session that started elsewhere — an OIDC redirect, an MFA step, a magic
    /// link — whose refresh cookie the backend has set: `grant` is its first access token.
    /// From here on it is managed like any other (refresh, tabs, sign-out).
    pub fn adopt_session(&self, grant: Grant<P::User>) -> impl Future<Output = ()> + 'static {
        self.core.clone().adopt(grant)
    }

    /// [`AuthEndpoints::adopt_session`] with the backend's token response, read by the
    /// protocol.
    pub fn adopt_token_response(
        &self,
        response: &Response,
    ) -> impl Future<Output = Result<(), ClientError>> + 'static {
        let grant = self.core.protocol.read_grant(response);
        let core = self.core.clone();
        async move {
            let grant = grant.map_err(ClientError::BadResponse)?;
            core.adopt(grant).await;
            Ok(())
        }
    }
}
