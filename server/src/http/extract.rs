//! Request extractors: the JSON body (with our error mapping), the Bearer-authenticated
//! caller and the refresh cookie (the client address: [`crate::forwarding`]).

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{header, request::Parts, HeaderMap};

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::tokens::{AccessClaims, TokenError};

/// `axum::Json`, but a bad body becomes an [`ApiError`] (JSON, clear message) instead of
/// axum's plain-text rejection.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query`, but a bad query string becomes an [`ApiError`] (JSON 400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// `axum::extract::Path`, but a bad path parameter (e.g. invalid UTF-8 after percent-decoding)
/// becomes an [`ApiError`] (JSON 400).
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The caller of a Bearer-protected route: a verified access token whose session is live.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: i64,
    pub claims: Arc<AccessClaims>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::InvalidToken(
                "Send the access token as `Authorization: Bearer <token>`.".into(),
            )
        })?;
        let claims = state.tokens.verify_fresh(token).await?;
        if state.sessions.revocations().is_revoked(&claims.sid) {
            return Err(TokenError::Revoked.into());
        }
        let user_id = claims.user_id().ok_or(TokenError::Invalid)?;
        Ok(Authenticated { user_id, claims })
    }
}

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive), if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The `User-Agent`, trimmed to a sane length, for the sessions list.
pub fn user_agent(headers: &HeaderMap) -> Option<String> {
    let ua = headers.get(header::USER_AGENT)?.to_str().ok()?.trim();
    (!ua.is_empty()).then(|| ua.chars().take(256).collect())
}

/// The refresh cookies a request carries — counted in the raw `Cookie` headers, because a
/// cookie jar keeps only one value per name and which one wins is arbitrary. Two can arrive
/// when a sibling domain planted its own (`Domain=.example.com`); guessing which is ours could
/// act on the attacker's session, so the caller refuses instead.
///
/// The headers are read as bytes: one cookie with a non-ASCII value (another site's, say) must
/// not hide the refresh cookie beside it.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshCookie {
    Absent,
    /// One refresh cookie; `legacy` when it has the old name (`crate::http::cookies`).
    One {
        token: String,
        legacy: bool,
    },
    Several,
}

impl RefreshCookie {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let (mut current, mut legacy) = (Vec::new(), Vec::new());
        for (name, value) in cookie_pairs(headers) {
            if name == crate::http::cookies::REFRESH_COOKIE.as_bytes() {
                current.push(value);
            } else if name == crate::http::cookies::LEGACY_REFRESH_COOKIE.as_bytes() {
                legacy.push(value);
            }
        }
        let one = |values: Vec<&[u8]>, legacy| match values.as_slice() {
            [value] => RefreshCookie::One {
                token: String::from_utf8_lossy(value).into_owned(),
                legacy,
            },
            _ => RefreshCookie::Several,
        };
        match (current.len(), legacy.len()) {
            (0, 0) => RefreshCookie::Absent,
            // The current name wins over an old one (which the answer clears).
            (0, _) => one(legacy, true),
            _ => one(current, false),
        }
    }

    /// Whether the request carries a cookie of the old name (to clear it in the answer).
    pub fn carries_legacy(headers: &HeaderMap) -> bool {
        cookie_pairs(headers)
            .any(|(name, _)| name == crate::http::cookies::LEGACY_REFRESH_COOKIE.as_bytes())
    }
}

/// Every `name=value` pair of every `Cookie` header, as bytes (names and values trimmed, a
/// quoted value unquoted).
fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&[u8], &[u8])> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .filter_map(|pair| {
            let at = pair.iter().position(|b| *b == b'=')?;
            let name = pair[..at].trim_ascii();
            let mut value = pair[at + 1..].trim_ascii();
            if value.len() >= 2 && value.starts_with(b"\"") && value.ends_with(b"\"") {
                value = &value[1..value.len() - 1];
            }
            Some((name, value))
        })
}

/// The first cookie named `name`, read from the raw headers as bytes (a cookie jar drops the
/// whole header when one cookie in it is not ASCII).
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_pairs(headers)
        .find(|(n, _)| *n == name.as_bytes())
        .and_then(|(_, v)| std::str::from_utf8(v).ok().map(str::to_owned))
}
