//! Sessions: refresh-token families, stored in the database.
//!
//! A *session* is a refresh-token family. It starts at sign-in ([`Sessions::start`]), moves on
//! at every refresh ([`rotation`]), and ends at sign-out, revocation, reuse detection, idle
//! timeout or its absolute expiry ([`store`]). Its access tokens stop working the moment it
//! ends, on every instance ([`revocations`]). The token bytes themselves — minting, hashing,
//! the sealed successor of the grace answer — are in [`crypto`].
//!
//! | file | what it does |
//! |---|---|
//! | [`store`] | start (and the per-user cap), list a page, revoke one / all, the live session of a credential, prune |
//! | [`rotation`] | **where rotation is**: the conditional `UPDATE … RETURNING`, rate limit, grace, reuse |
//! | [`revocations`] | the in-memory set every request checks; `LISTEN/NOTIFY` on PostgreSQL |
//! | [`crypto`] | refresh tokens (session, generation, secret, MAC), SHA-256, sealing the successor |
//!
//! Storage is bounded: one row per session whatever its rotation count, at most
//! `MAX_SESSIONS_PER_USER` live sessions per user, and ended sessions are pruned after a day.

pub mod crypto;
pub mod revocations;
pub mod rotation;
pub mod step_up;
pub mod store;

use std::time::Duration;

use crate::authentication::Authentication;
use crate::clock::{Clock, Timestamp};
use crate::db::{rfc3339, Db, DbError};
use crate::ids::{SessionId, UserId};
use crate::security_events::{Kind, SecurityEvents};
pub use crypto::{RefreshToken, TokenMinter};
pub use revocations::Revocations;
pub use rotation::Proved;

#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub absolute: Duration,
    pub idle: Duration,
    pub grace: Duration,
    /// How long a revoked session's access tokens could still be alive (access TTL + leeway):
    /// the revocation set keeps a `sid` that long.
    pub access_lifetime: Duration,
    /// Rotations allowed per session per minute (0 = no limit).
    pub refresh_per_minute: u32,
    /// Live sessions a user may have; a new sign-in beyond it ends the least recently used.
    pub max_per_user: u32,
}

/// What a successful sign-in or refresh yields.
#[derive(Debug)]
pub struct Grant {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub username: String,
    pub refresh_token: RefreshToken,
    /// Absolute end of the session (the cookie's Max-Age counts down to it).
    pub expires_at: Timestamp,
    /// True when this was the grace answer to a just-rotated token.
    pub grace: bool,
    /// The DPoP key the session is bound to (its thumbprint), if any.
    pub dpop_jkt: Option<String>,
    /// When and how the person last proved who they are: the tokens' `auth_time` and `amr`.
    pub auth: Authentication,
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("The refresh token is missing or not recognised.")]
    Invalid,
    #[error("This refresh token was already used; the session has been revoked for safety.")]
    Reused,
    #[error("The session has ended; please sign in again.")]
    Expired,
    /// The session is bound to a DPoP key and the refresh proved none: nothing changed.
    #[error("This session is bound to a DPoP key: send a proof made with it.")]
    DpopProofMissing,
    #[error("This session refreshed too often; try again in a moment.")]
    RateLimited { retry_after: Duration },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for RefreshError {
    fn from(e: sqlx::Error) -> Self {
        RefreshError::Db(e.into())
    }
}

/// Why a session ended (stored in `sessions.revoked_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    LogoutGlobal,
    Revoked,
    Reuse,
    Expired,
    Replaced,
    /// Ended to make room: the user reached `MAX_SESSIONS_PER_USER`.
    Evicted,
    /// A refresh of a DPoP-bound session proved another key: theft, like reuse.
    DpopKeyMismatch,
    /// The password was changed from another session.
    PasswordChanged,
}

impl EndReason {
    /// The security event that tells of a session ended this way.
    pub fn event(self) -> Kind {
        match self {
            EndReason::Logout => Kind::SignedOut,
            EndReason::LogoutGlobal => Kind::SignedOutEverywhere,
            EndReason::Revoked => Kind::SessionRevoked,
            EndReason::Reuse => Kind::RefreshTokenReused,
            EndReason::Expired => Kind::SessionExpired,
            EndReason::Replaced => Kind::SessionReplaced,
            EndReason::Evicted => Kind::SessionEvicted,
            EndReason::DpopKeyMismatch => Kind::DpopKeyMismatch,
            EndReason::PasswordChanged => Kind::PasswordChanged,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::LogoutGlobal => "logout_global",
            EndReason::Revoked => "revoked",
            EndReason::Reuse => "reuse",
            EndReason::Expired => "expired",
            EndReason::Replaced => "replaced",
            EndReason::Evicted => "evicted",
            EndReason::DpopKeyMismatch => "dpop_key_mismatch",
            EndReason::PasswordChanged => "password_changed",
        }
    }
}

/// One live session, as `GET /api/sessions` lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id: SessionId,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub user_agent: Option<String>,
}

impl SessionRow {
    pub fn to_api(&self, current_sid: &str) -> tokenpair_api::SessionInfo {
        tokenpair_api::SessionInfo {
            id: self.id.to_string(),
            created_at: rfc3339(self.created_at),
            last_used_at: rfc3339(self.last_used_at),
            expires_at: rfc3339(self.expires_at),
            user_agent: self.user_agent.clone(),
            device: crate::device::name(self.user_agent.as_deref()),
            current: self.id == *current_sid,
        }
    }
}

/// The session store: the database plus this instance's view of the revocations.
#[derive(Clone)]
pub struct Sessions {
    db: Db,
    policy: SessionPolicy,
    revocations: Revocations,
    minter: TokenMinter,
    events: SecurityEvents,
    clock: Clock,
}

impl Sessions {
    /// Builds the store and loads recent revocations (on PostgreSQL: starts following them),
    /// so neither a restart nor another instance can resurrect the access tokens of a session
    /// that was signed out.
    pub async fn new(
        db: Db,
        policy: SessionPolicy,
        minter: TokenMinter,
        events: SecurityEvents,
        clock: Clock,
    ) -> Result<Self, DbError> {
        let revocations = Revocations::start(&db, policy.access_lifetime).await?;
        Ok(Sessions {
            db,
            policy,
            revocations,
            minter,
            events,
            clock,
        })
    }

    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    pub fn policy(&self) -> SessionPolicy {
        self.policy
    }

    pub fn db(&self) -> &Db {
        &self.db
    }
}
