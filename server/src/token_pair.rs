//! **Where a sign-in or a refresh becomes a token pair**: the session's grant (its refresh
//! token and absolute end) plus a fresh access token for it, and the lifetimes the client
//! shows ("you will be signed out in …"). The HTTP edge only translates the result into the
//! token response and the cookie.

use std::time::Duration;

use crate::db::now_ms;
use crate::ids::{SessionId, UserId};
use crate::sessions::{Grant, RefreshToken};
use crate::tokens::AccessTokens;

/// What a successful sign-in, registration or refresh hands out.
pub struct TokenPair {
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub refresh_token: RefreshToken,
    /// The session's absolute end, unix ms (the cookie's Max-Age counts down to it).
    pub session_ends_at: i64,
    /// Until the session ends unless refreshed: its idle deadline (this moved it) or its
    /// absolute end, whichever comes first.
    pub idle_expires_in: Duration,
    /// Until its absolute end.
    pub session_expires_in: Duration,
    pub session_id: SessionId,
    pub user_id: UserId,
    pub username: String,
}

/// The token pair of `grant`: an access token (never outliving the session) and the lifetimes.
pub fn for_grant(
    tokens: &AccessTokens,
    idle_timeout: Duration,
    grant: Grant,
) -> Result<TokenPair, jsonwebtoken::errors::Error> {
    let not_after = u64::try_from(grant.expires_at / 1000).unwrap_or(0);
    let issued = tokens.issue(grant.user_id, &grant.session_id, not_after)?;
    let session_left =
        Duration::from_millis(u64::try_from(grant.expires_at - now_ms()).unwrap_or(0));
    Ok(TokenPair {
        access_token: issued.token,
        expires_in: issued.expires_in,
        refresh_token: grant.refresh_token,
        session_ends_at: grant.expires_at,
        idle_expires_in: idle_timeout.min(session_left),
        session_expires_in: session_left,
        session_id: grant.session_id,
        user_id: grant.user_id,
        username: grant.username,
    })
}
