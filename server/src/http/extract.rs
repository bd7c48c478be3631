//! Request extractors: the JSON body (with our error mapping), the Bearer-authenticated
//! caller and the refresh cookie (the client address: [`crate::forwarding`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};

use crate::http::error::ApiError;
use crate::ids::UserId;
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

/// The body of a `POST` that takes no input: none at all, or a JSON object (`{}`) whose
/// members are ignored. Anything else is 400 `bad_request`.
#[derive(Debug, Clone, Copy)]
pub struct NoBody;

impl<S: Send + Sync> FromRequest<S> for NoBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(rejection.body_text())
                }
            })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(NoBody);
        }
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(_)) => Ok(NoBody),
            Ok(_) => Err(ApiError::BadRequest(
                "This endpoint takes no input: send no body, or `{}`.".into(),
            )),
            Err(_) => Err(ApiError::BadRequest(
                "The request body is not valid JSON.".into(),
            )),
        }
    }
}

/// The caller of a Bearer-protected route: a verified access token whose session is live.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: UserId,
    pub claims: Arc<AccessClaims>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (scheme, token) = presented_token(&parts.headers).ok_or_else(|| {
            ApiError::InvalidToken(
                "Send the access token as `Authorization: Bearer <token>`.".into(),
            )
        })?;
        // A token presented as DPoP is refused with a DPoP challenge (RFC 9449 §7.1).
        let refused = |e: TokenError| match scheme {
            Scheme::Dpop => ApiError::InvalidDpopToken(e.to_string()),
            Scheme::Bearer => e.into(),
        };
        let claims = state.tokens.verify_fresh(token).await.map_err(refused)?;
        if state.sessions.revocations().is_revoked(&claims.sid) {
            return Err(refused(TokenError::Revoked));
        }
        // A DPoP-bound token only with a proof by its key, and never as Bearer (no downgrade);
        // an unbound token never as DPoP. (A Bearer token without `cnf` costs nothing here.)
        match (&claims.cnf, scheme) {
            (None, Scheme::Bearer) => {}
            (None, Scheme::Dpop) => {
                return Err(ApiError::dpop(crate::dpop::DpopError::NotBound, true))
            }
            (Some(cnf), scheme) => {
                // (A malformed `DPoP` header, at a resource: 401, not the token endpoints' 400.)
                let proof = crate::http::dpop::DpopProof::of(parts, state)
                    .map_err(|_| ApiError::dpop(crate::dpop::DpopError::Malformed, true))?;
                let (Scheme::Dpop, Some(p)) = (scheme, proof.proof.as_deref()) else {
                    return Err(ApiError::dpop(crate::dpop::DpopError::Missing, true));
                };
                let verified = state
                    .dpop
                    .check(p, &proof.method, &proof.urls, Some(token))
                    .await
                    .map_err(|e| ApiError::dpop(e, true))?;
                if verified.jkt != cnf.jkt {
                    return Err(ApiError::dpop(crate::dpop::DpopError::OtherKey, true));
                }
            }
        }
        let user_id = claims.user_id().ok_or(TokenError::Invalid)?;
        Ok(Authenticated { user_id, claims })
    }
}

/// How an access token is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    /// `Authorization: DPoP …`, with a `DPoP` proof header.
    Dpop,
}

/// The token of an `Authorization: Bearer …` or `DPoP …` header (scheme case-insensitive).
pub fn presented_token(headers: &HeaderMap) -> Option<(Scheme, &str)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let scheme = if scheme.eq_ignore_ascii_case("bearer") {
        Scheme::Bearer
    } else if scheme.eq_ignore_ascii_case("dpop") {
        Scheme::Dpop
    } else {
        return None;
    };
    (!token.is_empty()).then_some((scheme, token))
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
