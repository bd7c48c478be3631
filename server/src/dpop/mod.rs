//! DPoP (RFC 9449): tokens bound to a key the browser cannot export.
//!
//! * [`proof`] checks one proof against the request (a pure function);
//! * [`replay`] makes each proof usable once, on every instance;
//! * [`nonce`] makes and checks server nonces (`DPOP_NONCE=on`);
//! * [`Dpop`] puts them together for the HTTP edge: a proof in, the key's thumbprint out, or
//!   why not.
//!
//! Work in progress (issue 24): the binding of sessions and tokens follows.

pub mod nonce;
pub mod proof;
pub mod replay;

use std::time::Duration;

use crate::clock::Clock;
use crate::db::{Db, DbError};
pub use nonce::Nonces;
pub use proof::{Expected, ProofError, Verified, ALGS};

/// `DPOP`: whether sessions are bound to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DpopMode {
    /// Proofs are ignored; nothing is bound.
    Off,
    /// A sign-in that carries a valid proof binds its session; one without stays a Bearer
    /// session.
    #[default]
    Optional,
    /// A sign-in without a valid proof is refused.
    Required,
}

/// The DPoP settings.
#[derive(Debug, Clone, Copy)]
pub struct DpopPolicy {
    pub mode: DpopMode,
    /// `DPOP_NONCE`: proofs must carry a server nonce.
    pub nonce: bool,
    /// `DPOP_IAT_WINDOW`: how far a proof's `iat` may be from now.
    pub window: Duration,
}

impl Default for DpopPolicy {
    fn default() -> Self {
        DpopPolicy {
            mode: DpopMode::Optional,
            nonce: false,
            window: Duration::from_secs(60),
        }
    }
}

/// Why a request's proof was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum DpopError {
    /// No proof where one is required.
    #[error("This server requires a DPoP proof (a `DPoP` header).")]
    Missing,
    /// Not one `DPoP` header of text.
    #[error("Send exactly one DPoP proof (`DPoP` header).")]
    Malformed,
    /// A proof by another key than the token's (`cnf.jkt`).
    #[error("The DPoP proof is made with another key than the one this token is bound to.")]
    OtherKey,
    /// `Authorization: DPoP` with a token that is not bound to a key.
    #[error("This access token is not bound to a DPoP key: send it as `Authorization: Bearer`.")]
    NotBound,
    #[error(transparent)]
    Invalid(ProofError),
    #[error("The DPoP proof was used before.")]
    Replayed,
    /// The proof lacks the current nonce: the answer hands it out (`DPoP-Nonce`).
    #[error("The DPoP proof must carry the server's nonce; use the one in DPoP-Nonce.")]
    UseNonce { nonce: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Proof checking for the HTTP edge (see the module docs).
#[derive(Clone)]
pub struct Dpop {
    replay: replay::ReplayStore,
    policy: DpopPolicy,
    nonces: Nonces,
    clock: Clock,
}

impl Dpop {
    pub fn new(db: Db, policy: DpopPolicy, nonce_key: [u8; 32], clock: Clock) -> Dpop {
        Dpop {
            replay: replay::ReplayStore::new(db),
            // A nonce window as long as the iat window: a nonce lives two of them.
            nonces: Nonces::new(nonce_key, policy.window),
            policy,
            clock,
        }
    }

    pub fn policy(&self) -> DpopPolicy {
        self.policy
    }

    /// The nonce to hand out now, when nonces are on.
    pub fn nonce(&self) -> Option<String> {
        self.policy
            .nonce
            .then(|| self.nonces.current(self.clock.now()))
    }

    /// Checks `proof` for a request of `method` to `url` presenting `access_token`, and
    /// records its `jti` (a second use is refused, on every instance).
    pub async fn check(
        &self,
        proof: &str,
        method: &str,
        urls: &[String],
        access_token: Option<&str>,
    ) -> Result<Verified, DpopError> {
        let now = self.clock.now();
        let expected = Expected {
            method,
            urls,
            access_token,
            nonce: None,
            now: now.ms() / 1000,
            window: self.policy.window,
        };
        let verified = proof::verify(proof, &expected).map_err(DpopError::Invalid)?;
        if self.policy.nonce {
            let carried = proof::nonce_of(proof).unwrap_or_default();
            if !self.nonces.accepts(&carried, now) {
                return Err(DpopError::UseNonce {
                    nonce: self.nonces.current(now),
                });
            }
        }
        // Refused by its iat after the window: the jti need not be kept longer.
        // (`iat` is whole seconds: a proof passes until the end of the window's last second.)
        let until = crate::clock::Timestamp(verified.iat * 1000)
            .after(self.policy.window + std::time::Duration::from_secs(1));
        if !self
            .replay
            .first_use(&verified.jkt, &verified.jti, until)
            .await?
        {
            return Err(DpopError::Replayed);
        }
        Ok(verified)
    }
}
