//! Access tokens: short-lived JWTs (RFC 9068 profile), issued and verified here only.
//!
//! * One algorithm (HS256) fixed server-side; `alg: none` and every other algorithm fail.
//! * Header `typ: at+jwt` and a `kid` looked up in a fixed key map; `jku`/`x5u`/`jwk` are refused.
//! * Claims `iss aud sub sid jti iat exp` are required and checked; leeway is explicit.
//! * A token whose session (`sid`) was revoked fails at once, checked in memory
//!   ([`crate::sessions::Revocations`]), not in the database.

mod verified;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;

pub const TOKEN_TYPE: &str = "at+jwt";
const ALGORITHM: Algorithm = Algorithm::HS256;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user id, as a string (RFC 7519: `sub` is a string).
    pub sub: String,
    /// The session (refresh-token family) this token belongs to.
    pub sid: String,
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
}

impl AccessClaims {
    pub fn user_id(&self) -> Option<i64> {
        self.sub.parse().ok()
    }
}

/// Why a presented access token was refused. Every variant is a 401 `invalid_token`; the
/// text becomes the `message` and the `error_description`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("The access token has expired.")]
    Expired,
    #[error("The access token is malformed.")]
    Malformed,
    #[error("The access token has the wrong type (expected typ at+jwt).")]
    WrongType,
    #[error("The access token was signed with an unknown key.")]
    UnknownKey,
    #[error("The access token's signature or claims are invalid.")]
    Invalid,
    #[error("The session of this access token has ended.")]
    Revoked,
}

struct Key {
    decoding: DecodingKey,
}

/// Issues and verifies access tokens.
pub struct AccessTokens {
    /// Tokens jsonwebtoken has already verified against this key set (see [`AccessTokens::verify`]).
    verified: verified::Verified,
    kid: String,
    encoding: EncodingKey,
    keys: HashMap<String, Key>,
    validation: Validation,
    ttl: Duration,
    issuer: String,
    audience: String,
}

/// A freshly issued access token.
pub struct Issued {
    pub token: String,
    pub expires_in: u64,
}

impl AccessTokens {
    /// `secret`: the current signing key. `previous`: a retired key still accepted for
    /// verification (rotation). Returns whether the current key was generated.
    pub fn new(config: &Config) -> (Self, bool) {
        let (secret, generated) = match &config.access_token_secret {
            Some(s) => (s.clone(), false),
            None => {
                let mut s = vec![0u8; 64];
                rand::rngs::OsRng.fill_bytes(&mut s);
                (s, true)
            }
        };
        let kid = key_id(&secret);
        let mut keys = HashMap::new();
        keys.insert(
            kid.clone(),
            Key {
                decoding: DecodingKey::from_secret(&secret),
            },
        );
        if let Some(prev) = &config.access_token_previous_secret {
            keys.insert(
                key_id(prev),
                Key {
                    decoding: DecodingKey::from_secret(prev),
                },
            );
        }

        let mut validation = Validation::new(ALGORITHM);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[&config.token_issuer]);
        validation.set_audience(&[&config.token_audience]);
        validation.leeway = config.access_token_leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;

        let tokens = AccessTokens {
            verified: verified::Verified::new(config.access_token_leeway.as_secs()),
            kid,
            encoding: EncodingKey::from_secret(&secret),
            keys,
            validation,
            ttl: config.access_token_expiry,
            issuer: config.token_issuer.clone(),
            audience: config.token_audience.clone(),
        };
        (tokens, generated)
    }

    /// The `kid` of the current signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for `user_id` in session `sid`, never outliving `not_after` (unix s).
    pub fn issue(
        &self,
        user_id: i64,
        sid: &str,
        not_after: u64,
    ) -> Result<Issued, jsonwebtoken::errors::Error> {
        let now = jsonwebtoken::get_current_timestamp();
        let exp = (now + self.ttl.as_secs()).min(not_after).max(now + 1);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            sid: sid.to_owned(),
            jti: random_id(16),
            iat: now,
            exp,
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some(TOKEN_TYPE.into());
        header.kid = Some(self.kid.clone());
        Ok(Issued {
            token: encode(&header, &claims, &self.encoding)?,
            expires_in: exp - now,
        })
    }

    /// Verifies signature, header and claims. Revocation is checked by the caller
    /// (see [`crate::extract::Authenticated`]).
    ///
    /// A browser sends the same token with every request until it refreshes, and verifying it
    /// (two JSON parses, base64, HMAC) costs more than the rest of `/api/me` together. So the
    /// result of a successful verification is remembered for that exact string: the signature
    /// and the header/`iss`/`aud`/`sub` checks cannot come out differently for the same bytes
    /// under the same keys (which never change while the process runs). What does depend on
    /// time — `exp`, with the same leeway rule as jsonwebtoken — is checked on every call, and
    /// the caller checks revocation on every call. Failures are never remembered.
    pub fn verify(&self, token: &str) -> Result<Arc<AccessClaims>, TokenError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = Arc::new(self.verify_uncached(token)?);
                self.verified.remember(token, claims.clone(), now);
                claims
            }
        };
        if self.verified.expired(&claims, now) {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// The full verification by jsonwebtoken (plus our header rules).
    fn verify_uncached(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(TOKEN_TYPE) || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(TokenError::WrongType);
        }
        // Keys come only from our own map: never from headers that point elsewhere.
        if header.jku.is_some()
            || header.x5u.is_some()
            || header.jwk.is_some()
            || header.x5c.is_some()
        {
            return Err(TokenError::UnknownKey);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// A key id that names a key without revealing it: the first 8 bytes of SHA-256(label || key).
pub fn key_id(secret: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"tokenpair-kid:")
        .chain_update(secret)
        .finalize();
    format!("hs256-{}", hex(&digest[..8]))
}

/// `n` random bytes from the OS CSPRNG, base64url without padding.
pub fn random_id(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn tokens() -> AccessTokens {
        let mut c = Config::for_tests(crate::db::Database::Sqlite(PathBuf::from("unused.db")));
        c.access_token_secret = Some(vec![7u8; 32]);
        AccessTokens::new(&c).0
    }

    fn far() -> u64 {
        u64::MAX / 2
    }

    #[test]
    fn an_issued_token_verifies_and_carries_every_required_claim() {
        let t = tokens();
        let issued = t.issue(42, "sid-1", far()).unwrap();
        let claims = t.verify(&issued.token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("42", "sid-1"));
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("tokenpair", "tokenpair-api")
        );
        assert_eq!(claims.exp - claims.iat, 300);
        assert_eq!(issued.expires_in, 300);
        let header = decode_header(&issued.token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid.as_deref(), Some(t.kid()));
    }

    #[test]
    fn a_remembered_token_is_still_refused_once_it_has_expired() {
        let t = tokens();
        let now = jsonwebtoken::get_current_timestamp();
        let issued = t.issue(1, "s", now + 1).unwrap();
        assert!(t.verify(&issued.token).is_ok(), "verified (and remembered)");
        assert!(t.verify(&issued.token).is_ok(), "answered from memory");
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(t.verify(&issued.token).unwrap_err(), TokenError::Expired);
    }

    #[test]
    fn a_remembered_token_vouches_for_nothing_but_its_exact_bytes() {
        let t = tokens();
        let issued = t.issue(1, "s", far()).unwrap();
        assert!(t.verify(&issued.token).is_ok());
        // The same header and claims with another signature, and another payload with the
        // remembered signature: both go through the full verification and fail.
        let (input, signature) = issued.token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let forged_signature = format!("{input}.{flipped}{}", &signature[1..]);
        assert!(t.verify(&forged_signature).is_err());
        let other = t.issue(2, "s", far()).unwrap();
        let (other_input, _) = other.token.rsplit_once('.').unwrap();
        assert!(t.verify(&format!("{other_input}.{signature}")).is_err());
    }

    #[test]
    fn an_access_token_never_outlives_its_session() {
        let t = tokens();
        let now = jsonwebtoken::get_current_timestamp();
        let issued = t.issue(1, "s", now + 10).unwrap();
        assert!(issued.expires_in <= 10);
    }

    #[test]
    fn the_key_id_does_not_reveal_the_key_and_is_stable() {
        assert_eq!(key_id(b"abc"), key_id(b"abc"));
        assert_ne!(key_id(b"abc"), key_id(b"abd"));
        assert!(!key_id(b"abcdefgh").contains("abcdefgh"));
    }

    #[test]
    fn random_ids_are_unique_and_url_safe() {
        let a = random_id(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_id(32));
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }
}
