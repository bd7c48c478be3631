//! **Where an access token is verified** (see the module docs of [`super`] for the rules):
//! our header checks, the key by `kid` among our own keys, the key's own algorithm for
//! jsonwebtoken's signature check, then the claims — and the memory of tokens already
//! verified, so a browser's repeated token costs one lookup.

use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Deserialize;

use super::{AccessClaims, AccessTokens, Mode, TokenError, TOKEN_TYPE};

/// The least time between two reloads caused by unknown key ids.
const RELOAD_ON_UNKNOWN_KID_EVERY: Duration = Duration::from_secs(1);

/// The header members we look at (parsed by us: jsonwebtoken does not know RFC 9864's
/// `Ed25519` algorithm name).
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    typ: Option<String>,
    kid: Option<String>,
    jku: Option<serde_json::Value>,
    x5u: Option<serde_json::Value>,
    x5c: Option<serde_json::Value>,
    jwk: Option<serde_json::Value>,
}

impl AccessTokens {
    /// Like [`AccessTokens::verify`], but a token signed with a key this instance does not
    /// know yet (another instance rotated a moment ago) gets one reload of the keys first.
    pub async fn verify_fresh(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        match self.verify(token) {
            Err(TokenError::UnknownKey) if self.may_reload_for_unknown_kid() => {
                if let Err(e) = self.reload().await {
                    tracing::warn!(error = %e, "cannot reload the signing keys");
                }
                self.verify(token)
            }
            other => other,
        }
    }

    fn may_reload_for_unknown_kid(&self) -> bool {
        if !matches!(self.mode, Mode::Ed25519 { .. }) {
            return false;
        }
        let mut last = self
            .last_unknown_kid_reload
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < RELOAD_ON_UNKNOWN_KID_EVERY) {
            return false;
        }
        *last = Some(Instant::now());
        true
    }

    /// Verifies signature, header and claims. Revocation is checked by the caller
    /// (see [`crate::http::extract::Authenticated`]).
    ///
    /// A browser sends the same token with every request until it refreshes, and verifying it
    /// (two JSON parses, base64, a signature) costs more than the rest of `/api/me` together.
    /// So the result of a successful verification is remembered for that exact string: the
    /// signature and the header/`iss`/`aud`/`sub` checks cannot come out differently for the
    /// same bytes under the same keys (and the memory is cleared whenever the keys change).
    /// What depends on time — `exp`, with jsonwebtoken's leeway rule — is checked on every
    /// call, and the caller checks revocation on every call. Failures are never remembered.
    pub fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verify_uncached(token, now)?);
                self.verified.remember(token, claims.clone(), now);
                claims
            }
        };
        if self.verified.expired(&claims, now) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The full verification: our header rules, the key's own algorithm, jsonwebtoken's
    /// signature check, then the claims.
    fn verify_uncached(&self, token: &str, now: u64) -> Result<AccessClaims, TokenError> {
        let (message, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header_b64, payload_b64) = message.split_once('.').ok_or(TokenError::Malformed)?;
        let header: RawHeader = decode_part(header_b64).ok_or(TokenError::Malformed)?;
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(TokenError::WrongType);
        }
        // Keys come only from our own set: never from headers that point elsewhere.
        if header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
        {
            return Err(TokenError::UnknownKey);
        }
        let set = self.key_set();
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| set.verifying.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        if !key.alg.accepts_header_alg(&header.alg) {
            return Err(TokenError::Invalid);
        }
        let valid = jsonwebtoken::crypto::verify(
            signature,
            message.as_bytes(),
            &key.decoding,
            key.alg.jwt(),
        )
        .map_err(|_| TokenError::Invalid)?;
        if !valid {
            return Err(TokenError::Invalid);
        }
        let payload: serde_json::Value = decode_part(payload_b64).ok_or(TokenError::Invalid)?;
        // `nbf` is optional; when present it must have passed (with the leeway).
        match payload.get("nbf") {
            None => {}
            Some(nbf) => match nbf.as_u64() {
                Some(nbf) if nbf <= now + self.leeway => {}
                _ => return Err(TokenError::Invalid),
            },
        }
        let claims: AccessClaims =
            serde_json::from_value(payload).map_err(|_| TokenError::Invalid)?;
        if claims.iss != self.issuer || claims.aud != self.audience || claims.sub.is_empty() {
            return Err(TokenError::Invalid);
        }
        // Only lifetimes we issue: a token made with a leaked key cannot choose its own `exp`
        // (nor stretch it with an `iat` in the future).
        if claims.iat > now + self.leeway
            || claims.exp.saturating_sub(claims.iat) > self.ttl.as_secs() + self.leeway
        {
            return Err(TokenError::Invalid);
        }
        if self.verified.expired(&claims, now) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// A base64url JWT part, parsed as JSON.
fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    serde_json::from_slice(&bytes).ok()
}
