//! Wire types shared by the tokenpair SPA and the tokenpair server.
//!
//! Everything that crosses HTTP is defined here once, so the two sides cannot drift apart.
//! Field names are the JSON contract: change them only together with docs/api.md.

#[macro_use]
mod wire_type;
#[cfg(feature = "js")]
pub mod js;
pub mod rules;

/// Every path the SPA calls, in one place.
pub mod paths {
    pub const LOGIN: &str = "/api/auth/login";
    pub const REGISTER: &str = "/api/auth/register";
    pub const REFRESH: &str = "/api/auth/refresh";
    /// The refresh at page load: without any refresh cookie the server answers 204 ("no
    /// session", a normal outcome) instead of 401.
    pub const REFRESH_OPTIONAL: &str = "/api/auth/refresh?optional=1";
    pub const LOGOUT: &str = "/api/auth/logout";
    pub const LOGOUT_GLOBAL: &str = "/api/auth/logout?scope=global";
    pub const ME: &str = "/api/me";
    pub const SESSIONS: &str = "/api/sessions";
    pub const SECURITY_EVENTS: &str = "/api/security-events";
    /// The newest alarming event not shown yet (POST, Bearer): the dashboard's notice.
    pub const SECURITY_NOTICE: &str = "/api/security-events/notice";
    /// Step-up (RFC 9470): prove who you are again (password or passkey) → a new access token
    /// with a fresh `auth_time`, same session.
    pub const REAUTHENTICATE: &str = "/api/auth/reauthenticate";
    /// Change the password (a dangerous action): ends every other session.
    pub const ACCOUNT_PASSWORD: &str = "/api/account/password";
    /// The signed-in user's passkeys: `GET` lists, `POST` adds (finishing a registration);
    /// `PATCH`/`DELETE` `/api/passkeys/{id}` rename and delete one.
    pub const PASSKEYS: &str = "/api/passkeys";
    /// Starts adding a passkey: the `navigator.credentials.create` options.
    pub const PASSKEY_REGISTRATION_OPTIONS: &str = "/api/passkeys/registration/options";
    /// Starts a passkey sign-in (or re-authentication): the `navigator.credentials.get` options.
    pub const PASSKEY_SIGN_IN_OPTIONS: &str = "/api/auth/passkey/options";
    /// Finishes a passkey sign-in: a new session, like a password sign-in.
    pub const PASSKEY_SIGN_IN: &str = "/api/auth/passkey";
    /// Prefix of the endpoints that authenticate with the refresh cookie. The client never
    /// runs its refresh-and-retry logic on these, and the cookie's `Path` is exactly this.
    pub const AUTH_PREFIX: &str = "/api/auth";
}

/// The header every cookie-authenticated request must carry (a simple CSRF defence: a
/// cross-site form cannot set it, and a cross-site `fetch` that sets it needs a CORS preflight
/// the server never grants).
pub const CSRF_HEADER: &str = "X-Requested-With";
pub const CSRF_HEADER_VALUE: &str = "XMLHttpRequest";

wire_type! {
    /// Body of `POST /api/auth/login` and `POST /api/auth/register`.
    #[derive(Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"username": "user1", "password": "password1"})))]
    pub struct Credentials {
        pub username: String,
        pub password: String,
    }
}

wire_type! {
    /// Body of `POST /api/account/password`: the current password and the new one (the same
    /// rules as registration). A dangerous action: it also needs a recent sign-in.
    #[derive(Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"current_password": "password1", "new_password": "a new passphrase"})))]
    pub struct PasswordChange {
        pub current_password: String,
        pub new_password: String,
    }
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { <redacted> }")
    }
}

wire_type! {
    /// Answer of `POST /api/account/password`: the password changed, and how many other
    /// sessions ended with it (this one lives on).
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"other_sessions_ended": 2})))]
    pub struct PasswordChanged {
        pub other_sessions_ended: u64,
    }
}

impl std::fmt::Debug for Credentials {
    // Never print a password, even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

wire_type! {
    /// The user as the token endpoints describe them.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"id": 1, "username": "user1"})))]
    pub struct UserSummary {
        pub id: i64,
        pub username: String,
    }
}

wire_type! {
    /// Answer of login, register and refresh. The refresh token is *not* here: it travels only
    /// in the HttpOnly `Set-Cookie` of the same response.
    #[derive(Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"access_token": "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFZERTQSIsImtpZCI6ImVkMjU1MTktOWYzYTFjMmI3ZDRlNWY2MCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "token_type": "Bearer", "expires_in": 300, "session_id": "4aXgoRQ2PnHxxFGy-gLlvA", "idle_expires_in": 86400, "session_expires_in": 604800, "user": {"id": 1, "username": "user1"}})))]
    pub struct TokenResponse {
        pub access_token: String,
        /// Always `"Bearer"`.
        pub token_type: String,
        /// Seconds until the access token expires, counted by the server when it answered.
        pub expires_in: u64,
        /// The server-side session (refresh-token family) this token belongs to; the same for
        /// every token of one sign-in, new for each sign-in. Also the access token's `sid`
        /// claim. Tabs use it to tell a message about this sign-in from one about an older one.
        pub session_id: String,
        /// Seconds until the session ends if it is not refreshed (its idle timeout, never past
        /// its absolute end). Each refresh moves it. `None` from a server that does not say.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub idle_expires_in: Option<u64>,
        /// Seconds until the session's absolute end, which refreshing never moves.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub session_expires_in: Option<u64>,
        pub user: UserSummary,
    }
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("session_id", &self.session_id)
            .field("idle_expires_in", &self.idle_expires_in)
            .field("session_expires_in", &self.session_expires_in)
            .field("user", &self.user)
            .finish()
    }
}

wire_type! {
    /// Answer of `GET /api/me`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"id": 1, "username": "user1", "created_at": "2026-12-01T09:30:00Z"})))]
    pub struct Me {
        pub id: i64,
        pub username: String,
        /// RFC 3339, UTC.
        pub created_at: String,
    }
}

wire_type! {
    /// One entry of `GET /api/sessions`: a signed-in device (a refresh-token family).
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"id": "4aXgoRQ2PnHxxFGy-gLlvA", "created_at": "2026-12-07T08:00:00Z", "last_used_at": "2026-12-07T09:12:41Z", "expires_at": "2026-12-14T08:00:00Z", "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "device": "Firefox on Linux", "current": true})))]
    pub struct SessionInfo {
        pub id: String,
        /// RFC 3339, UTC.
        pub created_at: String,
        /// RFC 3339, UTC: the last sign-in or refresh.
        pub last_used_at: String,
        /// RFC 3339, UTC: the absolute end of the session; refreshing never moves it.
        pub expires_at: String,
        pub user_agent: Option<String>,
        /// A readable name for the device, from the user agent ("Chrome on Windows").
        pub device: String = default,
        /// True for the session the request's access token belongs to.
        pub current: bool,
    }
}

wire_type! {
    /// One of the signed-in user's passkeys (`GET /api/passkeys`, and the answer of adding or
    /// renaming one).
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"id": "c2VjcmV0LXBhc3NrZXktaWQ", "name": "Laptop", "created_at": "2026-12-07T08:00:00Z", "last_used_at": "2026-12-07T09:12:41Z", "backup_eligible": true, "backed_up": true})))]
    pub struct PasskeyInfo {
        /// The id of `PATCH`/`DELETE /api/passkeys/{id}`.
        pub id: String,
        /// What the user called it (1 to 64 characters).
        pub name: String,
        /// RFC 3339, UTC.
        pub created_at: String,
        /// RFC 3339, UTC: the last sign-in or re-authentication with it; `None` if never.
        pub last_used_at: Option<String>,
        /// The authenticator may sync it to the user's other devices (a "multi-device" passkey).
        pub backup_eligible: bool,
        /// It is synced (backed up), as of its last use.
        pub backed_up: bool,
    }
}

wire_type! {
    /// Body of `PATCH /api/passkeys/{id}`: the passkey's new name (trimmed; 1 to 64 characters).
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"name": "Phone"})))]
    pub struct PasskeyName {
        pub name: String,
    }
}

wire_type! {
    /// One entry of `GET /api/security-events`: something that happened to the account.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"id": "42", "kind": "refresh_token_reused", "at": "2026-12-07T09:15:03Z", "session_id": "4aXgoRQ2PnHxxFGy-gLlvA", "device": "Firefox on Linux", "address": "203.0.113.0/24", "detail": "generation=0 current=2", "current": false})))]
    pub struct SecurityEvent {
        /// Stable and increasing; the cursor of the next page is built from it.
        pub id: String,
        /// What happened: a [`SecurityEventKind`] in snake_case. A client that meets a kind
        /// it does not know should still show the entry (new kinds are added over time).
        pub kind: String,
        /// RFC 3339, UTC.
        pub at: String,
        /// The session (refresh-token family) it concerns, if any.
        pub session_id: Option<String>,
        /// The device that did it, from its user agent ("Firefox on Linux").
        pub device: Option<String>,
        /// The client address as the server keeps it (`SECURITY_EVENT_ADDRESS`): full,
        /// truncated to its network ("203.0.113.0/24"), or absent.
        pub address: Option<String>,
        /// A short detail: the reason of a failure or an expiry, how many sessions ended.
        pub detail: Option<String>,
        /// True when it concerns the session of the request's access token ("this device").
        pub current: bool,
    }
}

wire_type! {
    /// Answer of `GET /api/health`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"status": "ok"})))]
    pub struct HealthStatus {
        /// `ok`, or `unavailable` (with a 503).
        pub status: String,
        /// With `unavailable`: `database_unavailable`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error: Option<String>,
        /// With `unavailable`: what kind of failure (no path or driver text).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<String>,
    }
}

wire_type! {
    /// Every error the API returns has this body.
    #[derive(Debug, Clone, PartialEq, Eq)]
    #[cfg_attr(feature = "openapi", schema(example = json!({"error": "invalid_credentials", "message": "Wrong username or password."})))]
    pub struct ErrorBody {
        /// A stable snake_case code for programs: an [`ErrorCode`].
        pub error: String,
        /// A sentence for people.
        pub message: String,
    }
}

/// An enum of wire names (a `kind`, an error `code`): the variants, their snake_case strings
/// in one table, `ALL`, `as_str` and `parse`.
macro_rules! wire_names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident, $what:literal {
            $($(#[$doc:meta])* $variant:ident = $code:literal,)*
        }
    ) => {
        $(#[$meta])*
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            #[doc = concat!("Every ", $what, ", in declaration order.")]
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The wire name (snake_case).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            #[doc = concat!("The ", $what, " a wire name names; `None` for one this build does not know.")]
            pub fn parse(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

/// The kinds of [`SecurityEvent`]. Adding one is one line here (and its sentence in the SPA).
macro_rules! security_event_kinds {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        wire_names! {
            /// What a security event records (its `kind` on the wire).
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum SecurityEventKind, "kind" {
                $($(#[$doc])* $variant = $code,)*
            }
        }
    };
}

security_event_kinds! {
    /// An account was created (and signed in).
    AccountCreated = "account_created",
    /// A sign-in succeeded: a new session.
    SignedIn = "signed_in",
    /// A sign-in failed; `detail` says why (`wrong_password`).
    SignInFailed = "sign_in_failed",
    /// Sign-ins were paused after repeated failures; `detail`: `account`, `device` or
    /// `account_from_address`, then `until=<RFC 3339>`.
    SignInBlocked = "sign_in_blocked",
    /// One session signed out.
    SignedOut = "signed_out",
    /// Every session signed out at once; `detail`: how many ended.
    SignedOutEverywhere = "signed_out_everywhere",
    /// A sign-in replaced the session whose cookie the browser still held.
    SessionReplaced = "session_replaced",
    /// A session was ended from another device (the sessions list).
    SessionRevoked = "session_revoked",
    /// A session ended to make room: the account reached its session cap.
    SessionEvicted = "session_evicted",
    /// A session ended by itself; `detail`: `idle` or `absolute`.
    SessionExpired = "session_expired",
    /// An already used refresh token was presented again: the session was ended for safety.
    RefreshTokenReused = "refresh_token_reused",
    /// The server rotated its signing key (a deployment event, no user).
    SigningKeyRotated = "signing_key_rotated",
    /// A refresh of a DPoP-bound session came with a proof by another key: the session was
    /// ended for safety.
    DpopKeyMismatch = "dpop_key_mismatch",
    /// The person proved who they are again (step-up); `detail`: `pwd` or `hwk user`.
    Reauthenticated = "reauthenticated",
    /// A re-authentication failed; `detail` says why (`wrong_password`, `passkey_refused`).
    ReauthenticationFailed = "reauthentication_failed",
    /// The password was changed; every other session ended (`detail`: how many).
    PasswordChanged = "password_changed",
    /// A passkey was added; `detail`: its name.
    PasskeyAdded = "passkey_added",
    /// A passkey was renamed; `detail`: its new name.
    PasskeyRenamed = "passkey_renamed",
    /// A passkey was deleted; `detail`: its name.
    PasskeyDeleted = "passkey_deleted",
    /// A sign-in with a passkey succeeded: a new session.
    SignedInWithPasskey = "signed_in_with_passkey",
    /// A passkey's signature counter went backwards (a cloned authenticator?): refused.
    PasskeyCloneSuspected = "passkey_clone_suspected",
}

/// The stable error codes, one enum for the server and every client.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal => $constant:ident,)*) => {
        wire_names! {
            /// What went wrong, for programs: the `error` of every [`ErrorBody`] (snake_case on
            /// the wire). The `message` beside it is for people and may change; this is the
            /// contract.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
            #[cfg_attr(feature = "openapi", derive(::utoipa::ToSchema))]
            #[serde(rename_all = "snake_case")]
            pub enum ErrorCode, "code" {
                $($(#[$doc])* $variant = $code,)*
            }
        }

        /// The codes as strings (each is [`ErrorCode::as_str`] of its variant), for code that
        /// compares the `error` of a body it did not parse.
        pub mod codes {
            use super::ErrorCode;
            $(pub const $constant: &str = ErrorCode::$variant.as_str();)*
        }
    };
}

error_codes! {
    /// 401: wrong username or password.
    InvalidCredentials = "invalid_credentials" => INVALID_CREDENTIALS,
    /// 429: the sign-in or registration throttle; `Retry-After` says when to try again.
    TooManyAttempts = "too_many_attempts" => TOO_MANY_ATTEMPTS,
    /// 409: registration with a taken name.
    UsernameTaken = "username_taken" => USERNAME_TAKEN,
    /// 422: a missing or wrong-typed field, a rule broken, an unknown logout scope.
    ValidationFailed = "validation_failed" => VALIDATION_FAILED,
    /// 401: the Bearer token is missing, malformed, forged, expired or revoked.
    InvalidToken = "invalid_token" => INVALID_TOKEN,
    /// 401: no refresh cookie, or one the server does not know; the cookie is cleared.
    InvalidRefreshToken = "invalid_refresh_token" => INVALID_REFRESH_TOKEN,
    /// 401: a rotated refresh token presented again: the session was ended.
    RefreshTokenReused = "refresh_token_reused" => REFRESH_TOKEN_REUSED,
    /// 401: the session reached its idle or absolute end, or was ended.
    SessionExpired = "session_expired" => SESSION_EXPIRED,
    /// 403: the CSRF guard of the cookie endpoints refused the request.
    CsrfRejected = "csrf_rejected" => CSRF_REJECTED,
    /// 404: an unknown `/api` path, or a session that is not yours.
    NotFound = "not_found" => NOT_FOUND,
    /// 405: a known path with the wrong method.
    MethodNotAllowed = "method_not_allowed" => METHOD_NOT_ALLOWED,
    /// 413: a body over 16 KiB.
    PayloadTooLarge = "payload_too_large" => PAYLOAD_TOO_LARGE,
    /// 408: the request body did not arrive within the server's deadline; the connection closes.
    RequestTimeout = "request_timeout" => REQUEST_TIMEOUT,
    /// 400: a body that is not JSON, a bad query string or path.
    BadRequest = "bad_request" => BAD_REQUEST,
    /// 415: a body that is not `application/json`.
    UnsupportedMediaType = "unsupported_media_type" => UNSUPPORTED_MEDIA_TYPE,
    /// 500: a bug or a database failure; the detail is in the server log only.
    InternalError = "internal_error" => INTERNAL,
    /// 429: too many requests of this kind (a session refreshing too often, too many password
    /// checks at once from one address); `Retry-After` says when to try again.
    RateLimited = "rate_limited" => RATE_LIMITED,
    /// 503: the server is at capacity for this kind of request (the password queue is full);
    /// `Retry-After` says when to try again.
    ServerBusy = "server_busy" => SERVER_BUSY,
    /// 400: the request carried more than one refresh cookie (one may have been planted by a
    /// sibling domain); nothing was changed.
    MultipleRefreshCookies = "multiple_refresh_cookies" => MULTIPLE_REFRESH_COOKIES,
    /// 503 from `GET /api/health`: the database cannot be written (or its file vanished).
    DatabaseUnavailable = "database_unavailable" => DATABASE_UNAVAILABLE,
    /// 400 (sign-in, refresh) or 401 (resources): the DPoP proof is missing, malformed, or
    /// does not match the request, the token or the session's key.
    InvalidDpopProof = "invalid_dpop_proof" => INVALID_DPOP_PROOF,
    /// 400 or 401 with `DPoP-Nonce`: make the proof again with that nonce.
    UseDpopNonce = "use_dpop_nonce" => USE_DPOP_NONCE,
    /// 401 (RFC 9470): the action needs a recent sign-in; `WWW-Authenticate` names `max_age`.
    /// Re-authenticate (`POST /api/auth/reauthenticate`), then try again.
    InsufficientUserAuthentication = "insufficient_user_authentication" => INSUFFICIENT_USER_AUTHENTICATION,
    /// 400: a passkey ceremony refused: an unknown, expired or used challenge, another
    /// origin, a bad signature, an unknown credential.
    PasskeyRefused = "passkey_refused" => PASSKEY_REFUSED,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_uses_the_documented_json_field_names() {
        let body = TokenResponse {
            access_token: "a.b.c".into(),
            token_type: "Bearer".into(),
            expires_in: 300,
            session_id: "s1".into(),
            idle_expires_in: None,
            session_expires_in: None,
            user: UserSummary {
                id: 1,
                username: "user1".into(),
            },
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "access_token": "a.b.c", "token_type": "Bearer", "expires_in": 300,
                "session_id": "s1", "user": { "id": 1, "username": "user1" }
            })
        );
    }

    #[test]
    fn debug_output_never_contains_secrets() {
        let creds = Credentials {
            username: "u".into(),
            password: "hunter22".into(),
        };
        assert!(!format!("{creds:?}").contains("hunter22"));
        let body = TokenResponse {
            access_token: "secret.jwt.value".into(),
            token_type: "Bearer".into(),
            expires_in: 1,
            session_id: "s1".into(),
            idle_expires_in: None,
            session_expires_in: None,
            user: UserSummary {
                id: 1,
                username: "u".into(),
            },
        };
        assert!(!format!("{body:?}").contains("secret.jwt.value"));
    }
}
