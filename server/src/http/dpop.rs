//! The `DPoP` header of a request, and what it proves ([`crate::dpop`]): the proof, with the
//! method and the URL it must have been made for — the service's public origin
//! (`PUBLIC_URL`) and the request's path, as the client reached it behind any proxy.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::dpop::{DpopError, DpopMode};
use crate::http::error::ApiError;
use crate::state::AppState;

/// What a refresh request proved (the owned form of [`crate::sessions::Proved`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvedKey {
    Key(String),
    Nothing,
    Unchecked,
}

impl ProvedKey {
    pub fn as_proved(&self) -> crate::sessions::Proved<'_> {
        match self {
            ProvedKey::Key(key) => crate::sessions::Proved::Key(key),
            ProvedKey::Nothing => crate::sessions::Proved::Nothing,
            ProvedKey::Unchecked => crate::sessions::Proved::Unchecked,
        }
    }
}

/// A request's DPoP proof, if it carries one.
#[derive(Debug, Clone)]
pub struct DpopProof {
    pub proof: Option<String>,
    pub method: String,
    /// `htu`: the path at each origin the service answers at (its public URL's, or the Host
    /// the request names, and every `ALLOWED_ORIGINS` one).
    pub urls: Vec<String>,
}

impl FromRequestParts<AppState> for DpopProof {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        DpopProof::of(parts, state)
    }
}

impl DpopProof {
    /// The proof `parts` carry (see [`DpopProof`]).
    pub fn of(parts: &Parts, state: &AppState) -> Result<Self, ApiError> {
        let mut values = parts.headers.get_all("dpop").iter();
        let proof = match (values.next(), values.next()) {
            (None, _) => None,
            (Some(v), None) => Some(
                v.to_str()
                    .map_err(|_| ApiError::dpop(DpopError::Malformed, false))?
                    .to_owned(),
            ),
            (Some(_), Some(_)) => return Err(ApiError::dpop(DpopError::Malformed, false)),
        };
        // With PUBLIC_URL set, the origin people reach the service at (behind a TLS proxy the
        // request itself arrives as plain http). Without, the server is reached directly: at
        // the host the request names, or — through a development proxy such as `trunk serve`,
        // which rewrites Host — the one it forwards (the same rule as the CSRF origin check).
        // The ALLOWED_ORIGINS are origins the SPA is served at too (another name for the same
        // service): a proof made there names them.
        let network = &state.config.network;
        let public = &network.public_url;
        let mut origins = Vec::with_capacity(2 + network.allowed_origins.len());
        if public.is_explicit() {
            origins.push(public.origin().to_owned());
        } else {
            // Either scheme: without PUBLIC_URL the server cannot know whether a TLS proxy is
            // in front (the host part is no stronger a check than the Host header itself).
            for name in ["host", "x-forwarded-host"] {
                if let Some(host) = parts.headers.get(name).and_then(|h| h.to_str().ok()) {
                    origins.push(["http://", host].concat());
                    origins.push(["https://", host].concat());
                }
            }
        }
        origins.extend(network.allowed_origins.iter().cloned());
        let path = parts.uri.path();
        let urls = origins
            .iter()
            .map(|origin| [origin.as_str(), path].concat())
            .collect();
        Ok(DpopProof {
            proof,
            method: parts.method.as_str().to_owned(),
            urls,
        })
    }

    /// At a refresh: the key the request proved (checked, and used once), if it carries a
    /// proof — [`ProvedKey::Nothing`] without one, and [`ProvedKey::Unchecked`] with DPoP off.
    /// A proof that does not pass is a 401 `invalid_dpop_proof` (one without the nonce, a 400
    /// `use_dpop_nonce`): nothing changes, the refresh token stays valid.
    pub async fn key_proved(&self, state: &AppState) -> Result<ProvedKey, ApiError> {
        if state.dpop.policy().mode == DpopMode::Off {
            return Ok(ProvedKey::Unchecked);
        }
        let Some(proof) = self.proof.as_deref() else {
            return Ok(ProvedKey::Nothing);
        };
        match state
            .dpop
            .check(proof, &self.method, &self.urls, None)
            .await
        {
            Ok(verified) => Ok(ProvedKey::Key(verified.jkt)),
            Err(e @ DpopError::UseNonce { .. }) => Err(ApiError::dpop(e, false)),
            Err(e) => Err(ApiError::dpop(e, true)),
        }
    }

    /// At a sign-in: the key to bind the new session to, if the request proved one — or the
    /// refusal (`DPOP=required` without a proof, or a proof that does not pass).
    pub async fn key_to_bind(&self, state: &AppState) -> Result<Option<String>, ApiError> {
        match (state.dpop.policy().mode, self.proof.as_deref()) {
            (DpopMode::Off, _) | (DpopMode::Optional, None) => Ok(None),
            (DpopMode::Required, None) => Err(ApiError::dpop(DpopError::Missing, false)),
            (_, Some(proof)) => state
                .dpop
                .check(proof, &self.method, &self.urls, None)
                .await
                .map(|verified| Some(verified.jkt))
                .map_err(|e| ApiError::dpop(e, false)),
        }
    }
}
