//! The seam itself: [`Protocol`] and the values it deals in ([`Endpoints`], [`Grant`],
//! [`RefreshVerdict`], [`LogoutVerdict`]). See the module docs of [`crate::protocol`].

use std::fmt;
use std::time::Duration;

use crate::auth_state::SignOutScope;
use crate::error::ApiError;
use crate::http::{CredentialsMode, Request, Response};
use crate::problem::Problem;
use crate::step_up::StepUp;
use wasm_bindgen::JsValue;

/// Where the backend's cookie endpoints are, and how every request to it looks.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoints {
    /// Prefix for relative paths (`https://api.example.com`, `/backend`); `""` is the page's
    /// own origin.
    pub base_url: String,
    /// Rotates the refresh cookie and answers a new access token.
    pub refresh: String,
    /// The refresh at page load, if the backend has a variant for it (tokenpair answers 204
    /// instead of 401 there when there is no cookie: no failed request in the console).
    /// `None`: the refresh endpoint, where a refusal means "not signed in".
    pub restore: Option<String>,
    /// Ends this browser's session.
    pub logout: String,
    /// Ends every session of the user, if the backend can.
    pub logout_everywhere: Option<String>,
    /// Answers 2xx when the backend is up: probed while it is unreachable and the access
    /// token is still good. `None`: the probe refreshes instead.
    pub health: Option<String>,
    /// Paths of the cookie-authenticated endpoints; the Bearer client refuses anything at or
    /// under them (whole path segments).
    pub cookie_paths: Vec<String>,
    /// A header every request carries against CSRF (tokenpair: `X-Requested-With:
    /// XMLHttpRequest`).
    pub csrf_header: Option<(String, String)>,
    /// Whether cookies go with requests (cross-origin backends need `Include`).
    pub credentials: CredentialsMode,
}

impl Endpoints {
    /// A backend on the page's origin with these refresh and logout paths; both are cookie
    /// paths. Add the others with the `with_*` methods.
    pub fn new(refresh: &str, logout: &str) -> Endpoints {
        Endpoints {
            base_url: String::new(),
            refresh: refresh.to_owned(),
            restore: None,
            logout: logout.to_owned(),
            logout_everywhere: None,
            health: None,
            cookie_paths: vec![refresh.to_owned(), logout.to_owned()],
            csrf_header: None,
            credentials: CredentialsMode::SameOrigin,
        }
    }

    /// With a base URL.
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.base_url = base_url.trim_end_matches('/').to_owned();
        self
    }

    /// With a restore variant of the refresh endpoint.
    pub fn with_restore(mut self, path: &str) -> Self {
        self.restore = Some(path.to_owned());
        self
    }

    /// With an endpoint that ends every session of the user (a cookie path too).
    pub fn with_logout_everywhere(mut self, path: &str) -> Self {
        self.logout_everywhere = Some(path.to_owned());
        self.cookie_paths.push(path.to_owned());
        self
    }

    /// With a health endpoint.
    pub fn with_health(mut self, path: &str) -> Self {
        self.health = Some(path.to_owned());
        self
    }

    /// With one more cookie path (a sign-in endpoint, or a prefix such as `/api/auth`).
    pub fn with_cookie_path(mut self, path: &str) -> Self {
        self.cookie_paths.push(path.to_owned());
        self
    }

    /// With a CSRF header on every request.
    pub fn with_csrf_header(mut self, name: &str, value: &str) -> Self {
        self.csrf_header = Some((name.to_owned(), value.to_owned()));
        self
    }

    /// With cookies sent as `mode` says.
    pub fn with_credentials(mut self, mode: CredentialsMode) -> Self {
        self.credentials = mode;
        self
    }
}

/// How an access token is presented ([RFC 9449](https://www.rfc-editor.org/rfc/rfc9449)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenType {
    /// `Authorization: Bearer <token>`: whoever holds it can use it.
    #[default]
    Bearer,
    /// `Authorization: DPoP <token>` with a `DPoP` proof made by the key it is bound to
    /// (`cnf.jkt`): a copy of the token alone is useless.
    Dpop,
}

impl TokenType {
    /// The `token_type` of a token response (`"Bearer"`, `"DPoP"`, any case); anything else is
    /// `Bearer`.
    pub fn from_token_type(value: &str) -> TokenType {
        if value.eq_ignore_ascii_case("dpop") {
            TokenType::Dpop
        } else {
            TokenType::Bearer
        }
    }

    /// The `Authorization` scheme.
    pub fn scheme(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
            TokenType::Dpop => "DPoP",
        }
    }
}

/// A token response, read: what the client keeps in memory.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Grant<U> {
    /// The access token.
    pub access_token: String,
    /// Bearer, or bound to this browser's DPoP key (the response's `token_type`).
    pub token_type: TokenType,
    /// How long it is valid from now (`expires_in`, or the JWT's `exp` — see
    /// [`jwt::expires_in`]).
    pub expires_in: Duration,
    /// The server-side session (refresh-token family) it belongs to, if the backend says:
    /// tabs use it to tell a message about this sign-in from one about an older one.
    pub session_id: Option<String>,
    /// How long until the session ends unless refreshed (its idle timeout), if the backend
    /// says.
    pub idle_expires_in: Option<Duration>,
    /// How long until the session's absolute end, if the backend says.
    pub session_expires_in: Option<Duration>,
    /// Who signed in, as the app describes users.
    pub user: U,
}

impl<U> Grant<U> {
    /// A grant of `access_token`, valid for `expires_in`, for `user`.
    pub fn new(access_token: impl Into<String>, expires_in: Duration, user: U) -> Grant<U> {
        Grant {
            access_token: access_token.into(),
            token_type: TokenType::Bearer,
            expires_in,
            session_id: None,
            idle_expires_in: None,
            session_expires_in: None,
            user,
        }
    }

    /// With the token type the response names.
    pub fn with_token_type(mut self, token_type: TokenType) -> Self {
        self.token_type = token_type;
        self
    }

    /// With the server session's id.
    pub fn with_session_id(mut self, session_id: Option<String>) -> Self {
        self.session_id = session_id;
        self
    }

    /// With the session's idle timeout and absolute end, as far as the backend says.
    pub fn with_session_end(mut self, idle: Option<Duration>, absolute: Option<Duration>) -> Self {
        self.idle_expires_in = idle;
        self.session_expires_in = absolute;
        self
    }
}

impl<U: fmt::Debug> fmt::Debug for Grant<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("session_id", &self.session_id)
            .field("user", &self.user)
            .finish()
    }
}

/// What a refresh (or restore) answer means.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum RefreshVerdict<U> {
    /// A new access token.
    Granted(Grant<U>),
    /// At page load: nobody is signed in (no cookie, or one the server does not know).
    NoSession,
    /// The server refused the refresh token: the session is over (`code` says why).
    Ended {
        /// The server's reason (`invalid_grant`, `refresh_token_reused`…).
        code: String,
    },
    /// Not a verdict on the session: keep it and retry.
    Unavailable(Problem),
}

/// What a logout answer means.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogoutVerdict {
    /// The server ended the session.
    Done,
    /// The session had already ended (counts as done).
    AlreadyEnded,
    /// No answer, a timeout, 408, 429 or 5xx: try again.
    Retry(Problem),
    /// A definitive refusal: stop trying (the session may still be alive on the server).
    Refused {
        /// The HTTP status.
        status: u16,
        /// The server's code.
        code: String,
    },
}

/// How one backend speaks the token-pair pattern. See the module docs.
pub trait Protocol: 'static {
    /// The app's user, as read from a token response (or from the access token's claims).
    type User: Clone + PartialEq + fmt::Debug + Send + Sync + 'static;
    /// What the app posts to sign in: a password, a one-time code, a passkey assertion…
    type SignIn: 'static;

    /// The backend's cookie endpoints and request settings.
    fn endpoints(&self) -> &Endpoints;

    /// The request that signs in with `credentials` (its answer is a token response).
    fn sign_in_request(&self, credentials: &Self::SignIn) -> Request;

    /// Reads a 2xx token response.
    fn read_grant(&self, response: &Response) -> Result<Grant<Self::User>, String>;

    /// The user as a plain JavaScript value (JSON's data model), to tell the other tabs who
    /// signed in. With serde: `tokenpair_client::json::to_value(user).unwrap_or(JsValue::NULL)`.
    fn user_to_js(&self, user: &Self::User) -> JsValue;

    /// The user back from [`Protocol::user_to_js`]'s value, in another tab. With serde:
    /// `tokenpair_client::json::from_value(value.clone())`.
    fn user_from_js(&self, value: &JsValue) -> Result<Self::User, String>;

    /// The refresh request (`restoring`: at page load, before anyone is known to be signed
    /// in).
    fn refresh_request(&self, restoring: bool) -> Request {
        let endpoints = self.endpoints();
        let path = match (&endpoints.restore, restoring) {
            (Some(restore), true) => restore,
            _ => &endpoints.refresh,
        };
        Request::post(path.as_str())
    }

    /// What a refresh answer means. The default: 2xx is a grant (a 204 while restoring is
    /// "nobody signed in"); 400 or 401 with `invalid_grant`, or any 401, ends the session
    /// (or, while restoring, means nobody is signed in); anything else is a [`Problem`].
    fn refresh_verdict(&self, response: &Response, restoring: bool) -> RefreshVerdict<Self::User> {
        if response.is_success() {
            if restoring && (response.status == 204 || response.body.is_empty()) {
                return RefreshVerdict::NoSession;
            }
            return match self.read_grant(response) {
                Ok(grant) => RefreshVerdict::Granted(grant),
                Err(_) => RefreshVerdict::Unavailable(Problem::BadAnswer),
            };
        }
        let error = self.api_error(response);
        let invalid_grant = matches!(response.status, 400 | 401) && error.code == "invalid_grant";
        if invalid_grant || response.status == 401 {
            return if restoring {
                RefreshVerdict::NoSession
            } else {
                RefreshVerdict::Ended { code: error.code }
            };
        }
        RefreshVerdict::Unavailable(Problem::from_response(response))
    }

    /// The logout request for `scope` (`None` if the backend cannot end every session).
    fn logout_request(&self, scope: SignOutScope) -> Option<Request> {
        let endpoints = self.endpoints();
        match scope {
            SignOutScope::ThisDevice => Some(Request::post(endpoints.logout.as_str())),
            SignOutScope::Everywhere => endpoints.logout_everywhere.as_deref().map(Request::post),
        }
    }

    /// What a logout answer means. The default: 2xx is done; 400/401 `invalid_grant` means
    /// it had already ended; 408, 429 and 5xx are retried; anything else is a refusal.
    fn logout_verdict(&self, response: &Response) -> LogoutVerdict {
        if response.is_success() {
            return LogoutVerdict::Done;
        }
        let error = self.api_error(response);
        if matches!(response.status, 400 | 401) && error.code == "invalid_grant" {
            return LogoutVerdict::AlreadyEnded;
        }
        let problem = Problem::from_response(response);
        if problem.is_transient() {
            LogoutVerdict::Retry(problem)
        } else {
            LogoutVerdict::Refused {
                status: response.status,
                code: error.code,
            }
        }
    }

    /// The step-up challenge in `response`, if it is one
    /// ([RFC 9470](https://www.rfc-editor.org/rfc/rfc9470)): the request needs a more recent
    /// (or stronger) authentication. The default reads RFC 9470's 401 `WWW-Authenticate: …
    /// error="insufficient_user_authentication"` (with `max_age`, `acr_values`), or that
    /// JSON error code.
    fn step_up_challenge(&self, response: &Response) -> Option<StepUp> {
        StepUp::from_response(response)
    }

    /// The request that proves who the signed-in person is again with `credentials` (sent
    /// with the access token and the cookie; its answer is a token response for the same
    /// session). `None` (the default): the backend has none — re-authenticate another way and
    /// hand the session over with `AuthEndpoints::adopt_session`.
    fn reauthenticate_request(&self, credentials: &Self::SignIn) -> Option<Request> {
        let _ = credentials;
        None
    }

    /// The request for a passkey sign-in's options (its answer: `{"publicKey": {…}}`, the
    /// WebAuthn request options as JSON), for [`crate::AuthEndpoints::passkey_assertion`].
    /// `None` (the default): the backend has no passkeys.
    fn passkey_options_request(&self) -> Option<Request> {
        None
    }

    /// Reads a refusal (any non-2xx answer).
    fn api_error(&self, response: &Response) -> ApiError {
        ApiError::from_response(response)
    }
}
