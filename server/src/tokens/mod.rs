//! Access tokens: short-lived JWTs (RFC 9068 profile), issued here and verifiable by anyone
//! who fetches the public keys.
//!
//! **Two modes.** With `ACCESS_TOKEN_SECRET` set: HS256 under that secret (and a previous one
//! for verification). Without it (the default): Ed25519 (`alg` `EdDSA`) with keys kept in the
//! database ([`key_store`]), so tokens survive a restart, every instance on the database signs
//! and verifies with the same keys, and other services verify them through
//! `GET /.well-known/jwks.json` ([`crate::http::jwks`]) without holding anything that could mint one.
//!
//! **Verification.**
//! * The key is picked by `kid` among our own keys; an unknown `kid` fails (after one reload of
//!   the keys, in case another instance has just rotated). `jku`/`x5u`/`jwk`/`x5c` are refused.
//! * Each key has one algorithm ([`keys::KeyAlg`]); the header's `alg` must name it
//!   (`EdDSA` or RFC 9864's `Ed25519` for an Ed25519 key, `HS256` for a secret) — so `none`,
//!   other algorithms and an HS256 token "signed" with an Ed25519 public key all fail. The
//!   signature is checked by jsonwebtoken with the key's algorithm, never the header's.
//! * Header `typ: at+jwt`; claims `iss aud sub sid jti iat exp` required, `iss`/`aud` exact,
//!   `exp`/`nbf` with an explicit leeway.
//! * A token whose session (`sid`) was revoked fails at once, checked by the caller in memory
//!   ([`crate::sessions::Revocations`]).

pub mod key_store;
pub mod keys;
mod verified;
mod verify;

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{encode, Header};

use serde::{Deserialize, Serialize};

use crate::authentication::{Authentication, Method};
use crate::clock::Timestamp;
use crate::config::TokenConfig;
use crate::db::{now_ms, Db, DbError};
use key_store::KeySchedule;
use keys::KeySet;
pub use keys::{hs256_kid as key_id, KeyAlg};

pub const TOKEN_TYPE: &str = "at+jwt";

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
    /// A DPoP-bound token's key (RFC 9449 §6.1): only a proof by that key may present it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// When the person last proved who they are, unix seconds (RFC 9470 §4): at sign-in, or
    /// at the session's latest re-authentication. Refreshing keeps it. `None` in tokens
    /// issued before step-up existed: never recent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    /// How (RFC 8176): `["pwd"]`, or `["hwk", "user"]` for a passkey.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// `cnf`: the key a token is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The key's RFC 7638 SHA-256 thumbprint, base64url.
    pub jkt: String,
}

impl AccessClaims {
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok().map(UserId)
    }

    /// The `sid` claim, if it has the shape of a session id.
    pub fn session_id(&self) -> Option<SessionId> {
        SessionId::parse(&self.sid)
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

/// How tokens are signed.
#[derive(Debug, Clone)]
pub enum Mode {
    /// `ACCESS_TOKEN_SECRET`: HS256, nothing published.
    Hs256,
    /// Ed25519 keys in the database.
    Ed25519 {
        db: Db,
        schedule: KeySchedule,
        reload_every: Duration,
    },
}

/// Issues and verifies access tokens.
pub struct AccessTokens {
    mode: Mode,
    keys: RwLock<Arc<KeySet>>,
    /// Tokens already verified against the current key set (see [`AccessTokens::verify`]).
    verified: verified::Verified,
    last_unknown_kid_reload: Mutex<Option<Instant>>,
    ttl: Duration,
    leeway: u64,
    issuer: String,
    audience: String,
}

/// A freshly issued access token.
pub struct Issued {
    pub token: String,
    pub expires_in: u64,
}

impl AccessTokens {
    /// HS256 with the configured secret, or Ed25519 with the database's keys (created on
    /// first start).
    pub async fn start(config: &TokenConfig, db: &Db) -> Result<Self, DbError> {
        let (mode, set) = match &config.access_token_secret {
            Some(secret) => (
                Mode::Hs256,
                KeySet::hs256(secret, config.access_token_previous_secret.as_deref()),
            ),
            None => {
                let schedule = KeySchedule::from_config(config);
                key_store::ensure(db, &schedule, now_ms()).await?;
                let set = ed25519_set(db, &schedule).await?;
                (
                    Mode::Ed25519 {
                        db: db.clone(),
                        schedule,
                        reload_every: config.key_reload_every,
                    },
                    set,
                )
            }
        };
        Ok(Self::with_keys(config, mode, set))
    }

    /// HS256 under `secret` (tests and tools that have no database).
    pub fn hs256(config: &TokenConfig, secret: &[u8]) -> Self {
        Self::with_keys(config, Mode::Hs256, KeySet::hs256(secret, None))
    }

    fn with_keys(config: &TokenConfig, mode: Mode, set: KeySet) -> Self {
        AccessTokens {
            mode,
            keys: RwLock::new(Arc::new(set)),
            verified: verified::Verified::new(config.access_token_leeway.as_secs()),
            last_unknown_kid_reload: Mutex::new(None),
            ttl: config.access_token_expiry,
            leeway: config.access_token_leeway.as_secs(),
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        }
    }

    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The key set in use.
    pub fn key_set(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The `kid` of the key that signs now.
    pub fn kid(&self) -> Option<String> {
        self.key_set().signer_at(now_ms()).map(|s| s.kid.clone())
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Ed25519 mode: creates keys that are due, deletes those whose tokens have all expired,
    /// and takes in what changed (also another instance's rotation). HS256: nothing.
    pub async fn reload(&self) -> Result<(), DbError> {
        let Mode::Ed25519 { db, schedule, .. } = &self.mode else {
            return Ok(());
        };
        key_store::ensure(db, schedule, now_ms()).await?;
        let set = ed25519_set(db, schedule).await?;
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.fingerprint != set.fingerprint {
            tracing::info!(keys = ?set.fingerprint.iter().map(|(k, _)| k).collect::<Vec<_>>(), "signing keys changed");
            *keys = Arc::new(set);
            // What was verified under the old set is verified again under the new one.
            self.verified.clear();
        }
        Ok(())
    }

    /// Reloads the keys every [`key_store::RELOAD_EVERY`] (Ed25519 mode), until aborted.
    pub fn spawn_reload(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let Mode::Ed25519 { reload_every, .. } = self.mode else {
            return None;
        };
        let tokens = self.clone();
        Some(tokio::spawn(async move {
            let mut every = tokio::time::interval(reload_every);
            every.tick().await;
            loop {
                every.tick().await;
                if let Err(e) = tokens.reload().await {
                    tracing::warn!(error = %e, "cannot reload the signing keys");
                }
            }
        }))
    }

    /// Issues a token for `user_id` in session `sid`, never outliving `not_after` (unix s).
    pub fn issue(
        &self,
        user_id: UserId,
        sid: &SessionId,
        not_after: u64,
    ) -> Result<Issued, jsonwebtoken::errors::Error> {
        let signed_in = Authentication {
            at: Timestamp(now_ms()),
            method: Method::Password,
        };
        self.issue_bound(user_id, sid, not_after, None, signed_in)
    }

    /// [`AccessTokens::issue`], bound to the DPoP key `jkt` when there is one (`cnf.jkt`),
    /// carrying the session's authentication (`auth_time`, `amr`).
    pub fn issue_bound(
        &self,
        user_id: UserId,
        sid: &SessionId,
        not_after: u64,
        jkt: Option<&str>,
        auth: Authentication,
    ) -> Result<Issued, jsonwebtoken::errors::Error> {
        let set = self.key_set();
        let signer = set
            .signer_at(now_ms())
            .ok_or(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat)?;
        let now = jsonwebtoken::get_current_timestamp();
        let exp = (now + self.ttl.as_secs()).min(not_after).max(now + 1);
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_string(),
            sid: sid.to_string(),
            jti: random_id(16),
            iat: now,
            exp,
            cnf: jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
            auth_time: Some(auth.auth_time()),
            amr: auth.method.amr().iter().map(|m| (*m).to_owned()).collect(),
        };
        let mut header = Header::new(signer.alg.jwt());
        header.typ = Some(TOKEN_TYPE.into());
        header.kid = Some(signer.kid.clone());
        Ok(Issued {
            token: encode(&header, &claims, &signer.encoding)?,
            expires_in: exp - now,
        })
    }
}

async fn ed25519_set(db: &Db, schedule: &KeySchedule) -> Result<KeySet, DbError> {
    let stored = key_store::load(db, &schedule.encryption).await?;
    Ok(KeySet::ed25519(
        stored
            .into_iter()
            .map(|k| (k.pair, k.activates_at))
            .collect(),
    ))
}

pub use crate::ids::random_id;
use crate::ids::{SessionId, UserId};

#[cfg(test)]
mod tests {
    use super::*;

    /// A session id for the tests (any string of the right shape).
    fn sid(s: &str) -> SessionId {
        SessionId::parse(s).unwrap()
    }
    use crate::config::Config;
    use std::path::PathBuf;

    fn tokens() -> AccessTokens {
        let c = Config::for_tests(crate::db::Database::Sqlite(PathBuf::from("unused.db")));
        AccessTokens::hs256(&c.tokens, &[7u8; 32])
    }

    fn far() -> u64 {
        u64::MAX / 2
    }

    #[test]
    fn an_issued_token_verifies_and_carries_every_required_claim() {
        let t = tokens();
        let issued = t.issue(UserId(42), &sid("sid-1"), far()).unwrap();
        let claims = t.verify(&issued.token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.sid.as_str()), ("42", "sid-1"));
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("tokenpair", "tokenpair-api")
        );
        assert_eq!(claims.exp - claims.iat, 300);
        assert_eq!(issued.expires_in, 300);
        let header = jsonwebtoken::decode_header(&issued.token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(header.kid, t.kid());
    }

    #[test]
    fn a_remembered_token_is_still_refused_once_it_has_expired() {
        let t = tokens();
        let now = jsonwebtoken::get_current_timestamp();
        let issued = t.issue(UserId(1), &sid("s"), now + 1).unwrap();
        assert!(t.verify(&issued.token).is_ok(), "verified (and remembered)");
        assert!(t.verify(&issued.token).is_ok(), "answered from memory");
        std::thread::sleep(Duration::from_millis(2100));
        assert_eq!(t.verify(&issued.token).unwrap_err(), TokenError::Expired);
    }

    #[test]
    fn a_remembered_token_vouches_for_nothing_but_its_exact_bytes() {
        let t = tokens();
        let issued = t.issue(UserId(1), &sid("s"), far()).unwrap();
        assert!(t.verify(&issued.token).is_ok());
        // The same header and claims with another signature, and another payload with the
        // remembered signature: both go through the full verification and fail.
        let (input, signature) = issued.token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let forged_signature = format!("{input}.{flipped}{}", &signature[1..]);
        assert!(t.verify(&forged_signature).is_err());
        let other = t.issue(UserId(2), &sid("s"), far()).unwrap();
        let (other_input, _) = other.token.rsplit_once('.').unwrap();
        assert!(t.verify(&format!("{other_input}.{signature}")).is_err());
    }

    #[test]
    fn an_access_token_never_outlives_its_session() {
        let t = tokens();
        let now = jsonwebtoken::get_current_timestamp();
        let issued = t.issue(UserId(1), &sid("s"), now + 10).unwrap();
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
