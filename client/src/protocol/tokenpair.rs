//! tokenpair's own protocol: the default.
//!
//! * `POST /api/auth/login` and `/api/auth/register` with `{"username", "password"}`;
//! * `POST /api/auth/refresh` (at page load `?optional=1`: 204 when there is no cookie);
//! * `POST /api/auth/logout` (`?scope=global`: every session);
//! * token responses `{"access_token", "token_type" (`Bearer`, or `DPoP` when the sign-in
//!   carried a DPoP proof), "expires_in", "session_id",
//!   "idle_expires_in"?, "session_expires_in"?, "user": {"id", "username"}}`;
//! * `X-Requested-With: XMLHttpRequest` on every request (CSRF);
//! * a refresh ends the session only on 401 `invalid_refresh_token`, `refresh_token_reused`,
//!   `session_expired` (or `invalid_grant`); anything else — a proxy's 401 included — is a
//!   transient problem.
//!
//! The contract itself is written once, in the `tokenpair-api` crate the server uses: this
//! protocol reads and writes those same types through their browser codecs
//! (`tokenpair_api::js`), and converts them to this crate's own types at the edge, so
//! `tokenpair-api` never appears in this crate's public API.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokenpair_api::js::{self, FromJs, ToJs};
use tokenpair_api::ErrorCode;
use tokenpair_api::{Credentials, PasswordConfirmation, TokenResponse, UserSummary};
use wasm_bindgen::JsValue;

use super::seam::{Endpoints, Grant, Protocol, RefreshVerdict, TokenType};
use crate::http::{Request, Response};
use crate::problem::Problem;

/// A tokenpair user, as token responses describe them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenpairUser {
    /// The user id.
    pub id: i64,
    /// The username.
    pub username: String,
}

/// A username and a password.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordCredentials {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// Never prints the password.
impl fmt::Debug for PasswordCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How to sign in to tokenpair.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenpairSignIn {
    /// An existing account.
    Password(PasswordCredentials),
    /// A new account, signed in at once.
    Register(PasswordCredentials),
    /// A passkey assertion (`credential.toJSON()`, as JSON): from
    /// `AuthEndpoints::passkey_assertion`.
    Passkey(String),
}

impl TokenpairSignIn {
    /// Sign in with `username` and `password`.
    pub fn password(username: &str, password: &str) -> Self {
        TokenpairSignIn::Password(PasswordCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        })
    }

    /// Confirm it is you with your password (a step-up: `AuthEndpoints::reauthenticate`).
    pub fn confirm_password(password: &str) -> Self {
        Self::password("", password)
    }

    /// Sign in (or confirm it is you) with a passkey assertion from
    /// `AuthEndpoints::passkey_assertion`.
    pub fn passkey(assertion_json: String) -> Self {
        TokenpairSignIn::Passkey(assertion_json)
    }

    /// Create the account `username` with `password`, and sign in.
    pub fn register(username: &str, password: &str) -> Self {
        TokenpairSignIn::Register(PasswordCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// `{"credential": <assertion>}`: the assertion is already JSON.
fn with_credential(assertion: &str) -> String {
    ["{\"credential\":", assertion, "}"].concat()
}

/// The refresh codes that end a tokenpair session. Nothing else does. (`invalid_grant` is
/// OAuth's word for the same, from a backend that speaks it.)
const ENDING_CODES: [&str; 4] = [
    ErrorCode::InvalidRefreshToken.as_str(),
    ErrorCode::RefreshTokenReused.as_str(),
    ErrorCode::SessionExpired.as_str(),
    "invalid_grant",
];

/// tokenpair's protocol (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenpairProtocol {
    endpoints: Endpoints,
}

impl TokenpairProtocol {
    /// tokenpair on the page's own origin.
    pub fn new() -> Self {
        TokenpairProtocol {
            endpoints: Endpoints::new("/api/auth/refresh", "/api/auth/logout")
                .with_restore("/api/auth/refresh?optional=1")
                .with_logout_everywhere("/api/auth/logout?scope=global")
                .with_health("/api/health")
                .with_cookie_path("/api/auth")
                .with_csrf_header("X-Requested-With", "XMLHttpRequest"),
        }
    }

    /// The same with other endpoints (another base URL, say).
    pub fn with_endpoints(endpoints: Endpoints) -> Self {
        TokenpairProtocol { endpoints }
    }
}

impl Default for TokenpairProtocol {
    fn default() -> Self {
        Self::new()
    }
}

impl Protocol for TokenpairProtocol {
    type User = TokenpairUser;
    type SignIn = TokenpairSignIn;

    fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn sign_in_request(&self, sign_in: &TokenpairSignIn) -> Request {
        let (path, credentials) = match sign_in {
            TokenpairSignIn::Password(c) => ("/api/auth/login", c),
            TokenpairSignIn::Register(c) => ("/api/auth/register", c),
            TokenpairSignIn::Passkey(assertion) => {
                return Request::post(tokenpair_api::paths::PASSKEY_SIGN_IN)
                    .json_text(with_credential(assertion))
            }
        };
        let body = Credentials {
            username: credentials.username.clone(),
            password: credentials.password.clone(),
        };
        Request::post(path).json_text(js::stringify(&body))
    }

    fn reauthenticate_request(&self, sign_in: &TokenpairSignIn) -> Option<Request> {
        match sign_in {
            TokenpairSignIn::Password(c) => Some(
                Request::post(tokenpair_api::paths::REAUTHENTICATE).json_text(js::stringify(
                    &PasswordConfirmation {
                        password: c.password.clone(),
                    },
                )),
            ),
            TokenpairSignIn::Passkey(assertion) => Some(
                Request::post(tokenpair_api::paths::REAUTHENTICATE)
                    .json_text(with_credential(assertion)),
            ),
            TokenpairSignIn::Register(_) => None,
        }
    }

    fn passkey_options_request(&self) -> Option<Request> {
        Some(Request::post(tokenpair_api::paths::PASSKEY_SIGN_IN_OPTIONS).json_text("{}"))
    }

    fn read_grant(&self, response: &Response) -> Result<Grant<TokenpairUser>, String> {
        let t: TokenResponse = js::parse(&response.text())?;
        let user = TokenpairUser {
            id: t.user.id,
            username: t.user.username,
        };
        Ok(
            Grant::new(t.access_token, Duration::from_secs(t.expires_in), user)
                .with_token_type(TokenType::from_token_type(&t.token_type))
                .with_session_id(Some(t.session_id))
                .with_session_end(
                    t.idle_expires_in.map(Duration::from_secs),
                    t.session_expires_in.map(Duration::from_secs),
                ),
        )
    }

    fn user_to_js(&self, user: &TokenpairUser) -> JsValue {
        UserSummary {
            id: user.id,
            username: user.username.clone(),
        }
        .to_js()
    }

    fn user_from_js(&self, value: &JsValue) -> Result<TokenpairUser, String> {
        let user = UserSummary::from_js(value)?;
        Ok(TokenpairUser {
            id: user.id,
            username: user.username,
        })
    }

    fn refresh_verdict(
        &self,
        response: &Response,
        restoring: bool,
    ) -> RefreshVerdict<TokenpairUser> {
        if response.is_success() {
            if restoring && response.status == 204 {
                return RefreshVerdict::NoSession;
            }
            return match self.read_grant(response) {
                Ok(grant) => RefreshVerdict::Granted(grant),
                Err(_) => RefreshVerdict::Unavailable(Problem::BadAnswer),
            };
        }
        let code = self.api_error(response).code;
        if response.status == 401 && ENDING_CODES.contains(&code.as_str()) {
            return if restoring {
                RefreshVerdict::NoSession
            } else {
                RefreshVerdict::Ended { code }
            };
        }
        RefreshVerdict::Unavailable(Problem::from_response(response))
    }
}
