//! [`AuthEndpoints`]: sign in, sign out, adopt a session — a handle separate from the Bearer
//! client, so a cookie endpoint can never go through the 401-retry path.

use std::future::Future;
use std::rc::Rc;

use crate::auth_state::SignOutScope;
use crate::core::Core;
use crate::error::ClientError;
use crate::http::Response;
use crate::protocol::{Grant, Protocol};

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
