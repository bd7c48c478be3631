//! **Where a request goes out**: [`Core::prepare`] decides where it may go and adds the
//! headers (the backend's CSRF header, `Authorization` with the access token's scheme);
//! [`Core::send_prepared`] gives it a DPoP proof where one is due ([`Prove`]), retries it
//! once with the server's nonce when asked (`use_dpop_nonce`), and puts a deadline on it.

use std::time::Duration;

use crate::core::Core;
use crate::http::{with_deadline, Request, Response, TransportError};
use crate::lock::Held;
use crate::protocol::{Protocol, TokenType};
use crate::time::{from_ms, Instant};
use crate::token::AccessToken;

/// Whether a request carries a DPoP proof (only when [`crate::ClientConfig::dpop`] is on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prove {
    /// No proof: a Bearer call, the health probe.
    No,
    /// A proof by the stored key, if there is one: a call with a DPoP-bound token.
    Api,
    /// A proof by the stored key, if there is one, at a token endpoint (a refresh, a
    /// sign-out): its `Date` also sets the proofs' clock.
    WithKey,
    /// A proof by the stored key, made first if there is none (a sign-in).
    MakingKey,
}

impl Prove {
    /// What a call presenting `token` needs.
    pub(crate) fn for_token(token: &AccessToken) -> Prove {
        match token.token_type() {
            TokenType::Dpop => Prove::Api,
            _ => Prove::No,
        }
    }
}

impl<P: Protocol> Core<P> {
    /// `request` as it goes on the wire: its absolute URL (with the query), the backend's CSRF
    /// header and credentials mode, and `Authorization` with `token` (`Bearer` or `DPoP`), if
    /// given. An API call (`to_api`) is refused unless the token may go there
    /// ([`crate::http::target`]: an allowed origin, not a cookie endpoint); a cookie-endpoint
    /// request just goes without the token where the origin is not allowed.
    pub(crate) fn prepare(
        &self,
        mut request: Request,
        token: Option<&AccessToken>,
        to_api: bool,
    ) -> Result<Request, String> {
        if let Some(why) = request.invalid.take() {
            return Err(why);
        }
        let resolved = if to_api {
            self.targets.for_bearer(&request)?
        } else {
            self.targets.resolve(&request)?
        };
        let token = token.filter(|_| to_api || self.targets.allows(&resolved));
        let endpoints = self.protocol.endpoints();
        request.url = resolved.url;
        request.query = resolved.query;
        if let Some((name, value)) = &endpoints.csrf_header {
            request = request.header(name, value);
        }
        if let Some(token) = token {
            request = request.header("Authorization", &token.authorization());
        }
        request.credentials = request.credentials.or(Some(endpoints.credentials));
        Ok(request)
    }

    /// Sends a cookie-endpoint request (presenting `token`, if given) under `held`: its
    /// deadline is the request timeout or `share` of what is left of the lock's budget,
    /// whichever is sooner.
    pub(crate) async fn send_locked(
        &self,
        request: Request,
        token: Option<&AccessToken>,
        prove: Prove,
        held: &Held,
        share: f64,
    ) -> Result<Response, TransportError> {
        let request = self
            .prepare(request, token, false)
            .map_err(TransportError::Network)?;
        let budget = held.remaining().mul_f64(share.clamp(0.0, 1.0));
        self.send_prepared(request, prove, budget).await
    }

    /// Sends a prepared request with the request timeout (or `limit`, if sooner), proved as
    /// `prove` says; a `use_dpop_nonce` answer is retried once with the nonce it gives.
    pub(crate) async fn send_prepared(
        &self,
        request: Request,
        prove: Prove,
        limit: Duration,
    ) -> Result<Response, TransportError> {
        let deadline = self.config.request_timeout.min(limit);
        let prover = self.prover.as_ref().filter(|_| prove != Prove::No);
        // One deadline for the proofs and the sends together (under the cross-tab lock, the
        // lock's budget is what `limit` is).
        let started = Instant::now();
        let left = || deadline.saturating_sub(from_ms(Instant::now().since(&started)));
        // `ath` is over the token this request presents as DPoP.
        let presented = request
            .header_value("Authorization")
            .and_then(|v| v.strip_prefix("DPoP "))
            .map(str::to_owned);
        // One retry with the server's nonce, if it asks for one (`use_dpop_nonce`).
        let mut retried = false;
        loop {
            let mut sent = request.clone();
            if let Some(prover) = prover {
                let proof = prover
                    .prove(
                        prove == Prove::MakingKey,
                        (request.method.as_str(), &request.url),
                        presented.as_deref(),
                    )
                    .await
                    .map_err(TransportError::Network)?;
                if let Some(proof) = proof {
                    sent = sent.header("DPoP", &proof.jwt);
                }
            }
            let response = with_deadline(self.transport.send(sent), left()).await?;
            let again = prover.is_some_and(|p| p.learn(&response, prove != Prove::Api));
            if !again || std::mem::replace(&mut retried, true) {
                return Ok(response);
            }
        }
    }
}
