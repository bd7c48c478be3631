//! **Where a sign-in or a refresh becomes a token pair**: the session's grant (its refresh
//! token and absolute end) plus a fresh access token for it, and the lifetimes the client
//! shows ("you will be signed out in …"). The HTTP edge only translates the result into the
//! token response and the cookie.

use std::time::Duration;

use std::sync::Arc;

use crate::authentication::Method;
use crate::clock::{Clock, Timestamp};
use crate::db::DbError;
use crate::ids::{SessionId, UserId};
use crate::security_events::Client;
use crate::sessions::{Grant, RefreshToken};
use crate::sessions::{Proved, RefreshError, Sessions};
use crate::tokens::AccessTokens;

/// What a successful sign-in, registration or refresh hands out.
pub struct TokenPair {
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The refresh token: the HttpOnly cookie's value, kept for [`TokenPair::session_expires_in`].
    pub refresh_token: RefreshToken,
    /// Until the session ends unless refreshed: its idle deadline (this moved it) or its
    /// absolute end, whichever comes first.
    pub idle_expires_in: Duration,
    /// Until its absolute end: also the refresh cookie's Max-Age.
    pub session_expires_in: Duration,
    pub session_id: SessionId,
    pub user_id: UserId,
    pub username: String,
    /// The DPoP key the session and this access token are bound to: the token type is then
    /// `DPoP`, else `Bearer`.
    pub dpop_jkt: Option<String>,
}

/// What a re-authentication hands out: an access token with a fresh `auth_time`, for the
/// same session (the refresh token and its cookie stay as they are).
pub struct FreshToken {
    pub access_token: String,
    pub expires_in: u64,
    /// Until the session's absolute end.
    pub session_expires_in: Duration,
    pub session_id: SessionId,
    pub user_id: UserId,
    pub username: String,
    pub dpop_jkt: Option<String>,
}

/// The token pair of `grant`: an access token (never outliving the session) and the lifetimes.
pub fn for_grant(
    tokens: &AccessTokens,
    idle_timeout: Duration,
    grant: Grant,
    now: Timestamp,
) -> Result<TokenPair, jsonwebtoken::errors::Error> {
    let not_after = u64::try_from(grant.expires_at.ms() / 1000).unwrap_or(0);
    let issued = tokens.issue_bound(
        grant.user_id,
        &grant.session_id,
        not_after,
        grant.dpop_jkt.as_deref(),
        grant.auth,
    )?;
    let session_left = now.until(grant.expires_at);
    Ok(TokenPair {
        access_token: issued.token,
        expires_in: issued.expires_in,
        refresh_token: grant.refresh_token,
        idle_expires_in: idle_timeout.min(session_left),
        session_expires_in: session_left,
        session_id: grant.session_id,
        user_id: grant.user_id,
        username: grant.username,
        dpop_jkt: grant.dpop_jkt,
    })
}

/// Why no token pair was handed out.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    /// The refresh token was refused (see [`RefreshError`]).
    #[error(transparent)]
    Refresh(#[from] RefreshError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot sign the access token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Sign-in and refresh as the HTTP edge sees them: the session's work ([`Sessions`]: a new
/// family, or a rotation) and the access token ([`AccessTokens`]) in one [`TokenPair`], which
/// the handler only translates into the body and the cookie.
#[derive(Clone)]
pub struct TokenPairs {
    sessions: Sessions,
    tokens: Arc<AccessTokens>,
    idle_timeout: Duration,
    clock: Clock,
}

impl TokenPairs {
    pub fn new(
        sessions: Sessions,
        tokens: Arc<AccessTokens>,
        idle_timeout: Duration,
        clock: Clock,
    ) -> TokenPairs {
        TokenPairs {
            sessions,
            tokens,
            idle_timeout,
            clock,
        }
    }

    /// A new session for a user who just proved who they are — bound to the DPoP key
    /// `dpop_jkt` when the sign-in proved one — and its first pair.
    pub async fn start(
        &self,
        user_id: UserId,
        username: String,
        client: &Client,
        dpop_jkt: Option<String>,
        method: Method,
    ) -> Result<TokenPair, PairError> {
        let grant = self
            .sessions
            .start_bound(user_id, username, client, dpop_jkt, method)
            .await?;
        self.pair(grant)
    }

    /// A new access token for live session `sid`, whose person just proved who they are again
    /// by `method` (its `auth_time` is now): same session, same refresh token. `None` when the
    /// session is no longer live.
    pub async fn reauthenticated(
        &self,
        sid: &SessionId,
        user_id: UserId,
        method: Method,
        client: &Client,
    ) -> Result<Option<FreshToken>, PairError> {
        let Some(renewed) = self
            .sessions
            .reauthenticated(sid, user_id, method, client)
            .await?
        else {
            return Ok(None);
        };
        let not_after = u64::try_from(renewed.expires_at.ms() / 1000).unwrap_or(0);
        let issued = self.tokens.issue_bound(
            user_id,
            sid,
            not_after,
            renewed.dpop_jkt.as_deref(),
            renewed.auth,
        )?;
        Ok(Some(FreshToken {
            access_token: issued.token,
            expires_in: issued.expires_in,
            session_expires_in: self.clock.now().until(renewed.expires_at),
            session_id: sid.clone(),
            user_id,
            username: renewed.username,
            dpop_jkt: renewed.dpop_jkt,
        }))
    }

    /// The next pair of the session a refresh token names (see [`crate::sessions::rotation`]),
    /// `proved`: the DPoP key the request proved, if any.
    pub async fn rotate(
        &self,
        presented: &str,
        client: &Client,
        proved: Proved<'_>,
    ) -> Result<TokenPair, PairError> {
        let grant = self
            .sessions
            .rotate_proving(presented, client, proved)
            .await?;
        self.pair(grant)
    }

    fn pair(&self, grant: Grant) -> Result<TokenPair, PairError> {
        Ok(for_grant(
            &self.tokens,
            self.idle_timeout,
            grant,
            self.clock.now(),
        )?)
    }
}
