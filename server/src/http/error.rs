//! `ApiError`: every failure the API can answer, and the one place it becomes an HTTP response
//! (`{ "error": "<code>", "message": "<text>" }`, plus the headers some statuses need).

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokenpair_api::{ErrorBody, ErrorCode};

use crate::db::DbError;
use crate::passkeys::PasskeyError;
use crate::passwords::{PasswordError, Refused};
use crate::sessions::RefreshError;
use crate::tokens::TokenError;
use crate::users::{CreateUserError, CredentialError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Wrong username or password.")]
    InvalidCredentials,
    /// A signed-in user's current password, wrong (changing the password): 403, not 401 — the
    /// access token is fine, and a client must not refresh it and try again.
    #[error("Your current password is not right.")]
    WrongCurrentPassword,
    #[error("Too many failed sign-in attempts. Try again in {retry_after} s.")]
    TooManyAttempts { retry_after: u64 },
    #[error("Too many registrations from this address. Try again in {retry_after} s.")]
    TooManyRegistrations { retry_after: u64 },
    #[error("{message}")]
    RateLimited {
        retry_after: u64,
        message: &'static str,
    },
    #[error("The server is busy. Try again in {retry_after} s.")]
    Busy { retry_after: u64 },
    #[error(
        "The request carried more than one refresh_token cookie, so it is unclear which session \
         it is for; nothing was changed. Clear this site's cookies and sign in again."
    )]
    MultipleRefreshCookies,
    #[error("That username is already taken.")]
    UsernameTaken,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    InvalidToken(String),
    /// The same, for a token presented as `Authorization: DPoP` (its challenge names DPoP).
    #[error("{0}")]
    InvalidDpopToken(String),
    #[error("{0}")]
    Refresh(RefreshErrorKind),
    #[error("{0}")]
    Csrf(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("Method not allowed for this endpoint.")]
    MethodNotAllowed,
    #[error("The request body is larger than 16 KiB.")]
    PayloadTooLarge,
    #[error("The request body did not arrive in time.")]
    RequestTimeout,
    #[error("{0}")]
    BadRequest(String),
    #[error("Send the body as JSON with `Content-Type: application/json`.")]
    UnsupportedMediaType,
    /// Details are logged, never sent.
    #[error("Something went wrong on the server.")]
    Internal(String),
    /// A DPoP proof refused: 400 at the token endpoints, 401 (with `WWW-Authenticate: DPoP`)
    /// at a resource.
    #[error("{message}")]
    DpopProof { message: String, resource: bool },
    /// Make the DPoP proof again with the nonce in `DPoP-Nonce`.
    #[error("Make the DPoP proof again with the nonce in the DPoP-Nonce header.")]
    UseDpopNonce { nonce: String, resource: bool },
    /// RFC 9470: the action needs an authentication at most `max_age` seconds old. `dpop`:
    /// the token is DPoP-bound (the challenge names the DPoP scheme).
    #[error("{INSUFFICIENT_AUTHENTICATION}")]
    InsufficientUserAuthentication { max_age: u64, dpop: bool },
    /// A passkey ceremony refused; nothing was changed.
    #[error("{0}")]
    PasskeyRefused(String),
}

/// The message (and `error_description`) of a step-up challenge.
pub const INSUFFICIENT_AUTHENTICATION: &str =
    "This action needs a recent sign-in: confirm it is you, then try again.";

/// The three refresh failures the API distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefreshErrorKind {
    #[error("The refresh token is missing or not recognised. Please sign in.")]
    Invalid,
    #[error("This refresh token was already used, so the session was ended for safety. Please sign in again.")]
    Reused,
    #[error("Your session has ended. Please sign in again.")]
    Expired,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidCredentials
            | ApiError::InvalidToken(_)
            | ApiError::InvalidDpopToken(_)
            | ApiError::Refresh(_)
            | ApiError::InsufficientUserAuthentication { .. } => StatusCode::UNAUTHORIZED,
            ApiError::PasskeyRefused(_) => StatusCode::BAD_REQUEST,
            ApiError::TooManyAttempts { .. }
            | ApiError::TooManyRegistrations { .. }
            | ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::MultipleRefreshCookies => StatusCode::BAD_REQUEST,
            ApiError::UsernameTaken => StatusCode::CONFLICT,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Csrf(_) | ApiError::WrongCurrentPassword => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::DpopProof { resource, .. } | ApiError::UseDpopNonce { resource, .. } => {
                if *resource {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::BAD_REQUEST
                }
            }
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidCredentials | ApiError::WrongCurrentPassword => {
                ErrorCode::InvalidCredentials
            }
            ApiError::TooManyAttempts { .. } | ApiError::TooManyRegistrations { .. } => {
                ErrorCode::TooManyAttempts
            }
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::Busy { .. } => ErrorCode::ServerBusy,
            ApiError::MultipleRefreshCookies => ErrorCode::MultipleRefreshCookies,
            ApiError::UsernameTaken => ErrorCode::UsernameTaken,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::InvalidToken(_) | ApiError::InvalidDpopToken(_) => ErrorCode::InvalidToken,
            ApiError::Refresh(RefreshErrorKind::Invalid) => ErrorCode::InvalidRefreshToken,
            ApiError::Refresh(RefreshErrorKind::Reused) => ErrorCode::RefreshTokenReused,
            ApiError::Refresh(RefreshErrorKind::Expired) => ErrorCode::SessionExpired,
            ApiError::Csrf(_) => ErrorCode::CsrfRejected,
            ApiError::NotFound(_) => ErrorCode::NotFound,
            ApiError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            ApiError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            ApiError::RequestTimeout => ErrorCode::RequestTimeout,
            ApiError::BadRequest(_) => ErrorCode::BadRequest,
            ApiError::UnsupportedMediaType => ErrorCode::UnsupportedMediaType,
            ApiError::Internal(_) => ErrorCode::InternalError,
            ApiError::DpopProof { .. } => ErrorCode::InvalidDpopProof,
            ApiError::UseDpopNonce { .. } => ErrorCode::UseDpopNonce,
            ApiError::InsufficientUserAuthentication { .. } => {
                ErrorCode::InsufficientUserAuthentication
            }
            ApiError::PasskeyRefused(_) => ErrorCode::PasskeyRefused,
        }
    }

    /// Seconds for `Retry-After`, for the answers that carry one.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::TooManyAttempts { retry_after }
            | ApiError::TooManyRegistrations { retry_after }
            | ApiError::RateLimited { retry_after, .. }
            | ApiError::Busy { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// Whether a refresh that failed with this error proved its cookie worthless (so the
    /// cookie is cleared). Never for 5xx, rate limits or a refused request: the same token may
    /// work a moment later.
    pub fn ends_refresh_cookie(&self) -> bool {
        matches!(self, ApiError::Refresh(_))
    }

    /// A DPoP refusal, at a token endpoint or (`resource`) a protected resource.
    pub fn dpop(e: crate::dpop::DpopError, resource: bool) -> Self {
        match e {
            crate::dpop::DpopError::UseNonce { nonce } => {
                ApiError::UseDpopNonce { nonce, resource }
            }
            crate::dpop::DpopError::Db(e) => e.into(),
            other => ApiError::DpopProof {
                message: other.to_string(),
                resource,
            },
        }
    }

    pub fn not_found() -> Self {
        ApiError::NotFound("No such API endpoint.".into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let status = self.status();
        let body = ErrorBody {
            error: self.code().as_str().to_owned(),
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        // RFC 9110: every 401 carries a challenge. Token failures say which (RFC 6750).
        let challenge = match &self {
            ApiError::InvalidToken(why) => Some(format!(
                r#"Bearer realm="tokenpair", error="invalid_token", error_description="{}""#,
                why.replace('"', "'")
            )),
            ApiError::InvalidDpopToken(why) => Some(format!(
                r#"DPoP error="invalid_token", error_description="{}", algs="{}""#,
                why.replace('"', "'"),
                crate::dpop::ALGS
            )),
            ApiError::Refresh(_) => {
                Some(r#"Bearer realm="tokenpair", error="invalid_token""#.to_owned())
            }
            ApiError::InvalidCredentials => Some(r#"Bearer realm="tokenpair""#.to_owned()),
            ApiError::DpopProof { resource: true, .. } => Some(format!(
                r#"DPoP error="invalid_dpop_proof", algs="{}""#,
                crate::dpop::ALGS
            )),
            ApiError::UseDpopNonce { resource: true, .. } => Some(format!(
                r#"DPoP error="use_dpop_nonce", algs="{}""#,
                crate::dpop::ALGS
            )),
            ApiError::InsufficientUserAuthentication { max_age, dpop } => Some(format!(
                r#"{} error="insufficient_user_authentication", error_description="{INSUFFICIENT_AUTHENTICATION}", max_age={max_age}"#,
                if *dpop { "DPoP" } else { "Bearer" },
            )),
            _ => None,
        };
        if let ApiError::UseDpopNonce { nonce, .. } = &self {
            if let Ok(value) = HeaderValue::from_str(nonce) {
                headers.insert("dpop-nonce", value);
            }
        }
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(retry_after) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        ApiError::InvalidToken(e.to_string())
    }
}

impl From<RefreshError> for ApiError {
    fn from(e: RefreshError) -> Self {
        match e {
            RefreshError::Invalid => ApiError::Refresh(RefreshErrorKind::Invalid),
            RefreshError::Reused => ApiError::Refresh(RefreshErrorKind::Reused),
            RefreshError::DpopProofMissing => ApiError::DpopProof {
                message: RefreshError::DpopProofMissing.to_string(),
                resource: true,
            },
            RefreshError::Expired => ApiError::Refresh(RefreshErrorKind::Expired),
            RefreshError::RateLimited { retry_after } => ApiError::RateLimited {
                retry_after: crate::throttle::retry_after_secs(retry_after),
                message: "This session refreshed too often. Try again in a moment.",
            },
            RefreshError::Db(e) => e.into(),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        match e {
            PasskeyError::Unavailable(_) | PasskeyError::Refused(_) => {
                ApiError::PasskeyRefused(e.to_string())
            }
            PasskeyError::BadName(message) => ApiError::Validation(message),
            PasskeyError::NotFound => ApiError::NotFound(e.to_string()),
            PasskeyError::Db(e) => e.into(),
            PasskeyError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        ApiError::Validation(e.to_string())
    }
}

impl From<PasswordError> for ApiError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy(Refused::AddressBusy(_)) => ApiError::RateLimited {
                retry_after: 1,
                message:
                    "Another sign-in from this address is being checked. Try again in a second.",
            },
            PasswordError::Busy(_) => ApiError::Busy { retry_after: 1 },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<CreateUserError> for ApiError {
    fn from(e: CreateUserError) -> Self {
        match e {
            CreateUserError::Taken => ApiError::UsernameTaken,
            CreateUserError::Db(e) => e.into(),
            CreateUserError::Password(e) => e.into(),
        }
    }
}

impl From<crate::token_pair::PairError> for ApiError {
    fn from(e: crate::token_pair::PairError) -> Self {
        match e {
            crate::token_pair::PairError::Refresh(e) => e.into(),
            crate::token_pair::PairError::Db(e) => e.into(),
            crate::token_pair::PairError::Sign(e) => e.into(),
        }
    }
}

impl From<jsonwebtoken::errors::Error> for ApiError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        ApiError::Internal(format!("signing an access token: {e}"))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => ApiError::Validation(format!(
                "The JSON body has a missing or wrong-typed field: {}",
                e.body_text().trim_start_matches(
                    "Failed to deserialize the JSON body into the target type: "
                )
            )),
            JsonRejection::JsonSyntaxError(_) => {
                ApiError::BadRequest("The request body is not valid JSON.".into())
            }
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType,
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(format!(
            "The query string is invalid: {}",
            query_problem(&rejection.body_text())
        ))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(format!(
            "The URL path is invalid: {}",
            rejection.body_text()
        ))
    }
}

/// axum's text without its generic preamble ("Failed to deserialize query string: …").
fn query_problem(text: &str) -> &str {
    text.trim_start_matches("Failed to deserialize query string: ")
}
