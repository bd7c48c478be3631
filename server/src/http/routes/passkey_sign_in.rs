//! `/api/auth/passkey/*`: signing in with a passkey, without a username — the
//! `navigator.credentials.get` options, then the authenticator's answer → exactly what
//! `POST /api/auth/login` answers (a new session, the access token, the refresh and device
//! cookies; DPoP-bound when the request carries a proof). [`confirm_passkey`] is the same
//! check for a re-authentication. Behind the CSRF guard like every `/api/auth` route.
//!
//! The session's sign-in is recorded as `signed_in_with_passkey` (instead of `signed_in`: one
//! sign-in, one event). Every refusal is 400 `passkey_refused` and changes nothing — except
//! that the options' challenge is used up: each answer, good or bad, needs fresh options.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokenpair_api::{ErrorBody, TokenResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::authentication::Method;
use crate::http::cookies::PresentedRefresh;
use crate::http::dpop::DpopProof;
use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, NoBody};
use crate::http::routes::auth::{signed_in, SignedIn};
use crate::ids::UserId;
use crate::security_events::Client;
use crate::state::AppState;

/// `/api/auth/passkey/options` and `/api/auth/passkey`, with the layers of `/api/auth`.
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    super::guarded(
        OpenApiRouter::new()
            .routes(routes!(options))
            .routes(routes!(sign_in)),
        state,
    )
}

/// Body of `POST /api/auth/passkey`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"credential": {"id": "fybTqpIM1w7Hcqt_G7Fm3oit2xT7gavamIDCbPBTUxQ", "rawId": "fybTqpIM1w7Hcqt_G7Fm3oit2xT7gavamIDCbPBTUxQ", "type": "public-key", "authenticatorAttachment": "platform", "response": {"authenticatorData": "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ", "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiN3lpUF9xVmI0U01BYnZJQWY4Q2ZOYU14aFhPYzNuMXRRSHo2TTRZV0w2dyIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6ODA4MCJ9", "signature": "MEQCIEe3OimohQ7hpDIHrPmk8ZzonczWzaQELSKeZAi7_J3rAiAHTgGYVA1uhEJq2sIQ26PFo2WPydTWfa7OeOlvBaYEIw", "userHandle": "05vP6TQESYO3AkffUCPDnQ"}, "clientExtensionResults": {}}}))]
pub struct PasskeySignIn {
    /// `credential.toJSON()` of `navigator.credentials.get`, made with the options of
    /// `POST /api/auth/passkey/options`.
    #[schema(value_type = Object)]
    pub credential: Value,
}

#[utoipa::path(
    post,
    path = "/api/auth/passkey/options",
    tag = "auth",
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 200, description = "The options of a usernameless `navigator.credentials.get` (webauthn-rs' discoverable `RequestChallengeResponse`), for a sign-in or a re-authentication: pass `publicKey` through `PublicKeyCredential.parseRequestOptionsFromJSON`, and add `mediation: \"conditional\"` yourself for the autofill prompt (a sign-in button leaves it out). Valid once, for 5 minutes. No body, or `{}`, is sent", content_type = "application/json",
            example = json!({"publicKey": {"challenge": "7yiP_qVb4SMAbvIAf8CfNaMxhXOc3n1tQHz6M4YWL6w", "timeout": 300000, "rpId": "localhost", "allowCredentials": [], "userVerification": "required", "extensions": {"uvm": true}}, "mediation": "conditional"})),
        (status = 400, description = "Passkeys are off on this server (its relying party id is an IP address); or a body that is neither empty nor a JSON object", body = ErrorBody,
            examples(
                ("passkey_refused" = (value = json!({"error": "passkey_refused", "message": "Passkeys need a domain name such as localhost: this server is set up for the IP address 127.0.0.1, which passkeys never work with (its operator can set PUBLIC_URL, or WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN)."}))),
                ("bad_request" = (value = json!({"error": "bad_request", "message": "The request body is not valid JSON."})))
            )),
        (status = 403, description = "The CSRF guard refused the request", body = ErrorBody,
            example = json!({"error": "csrf_rejected", "message": "This endpoint requires the header `X-Requested-With: XMLHttpRequest`."})),
    )
)]
/// `POST /api/auth/passkey/options` → 200 the request options.
pub async fn options(State(state): State<AppState>, _: NoBody) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.passkeys.sign_in_options().await?))
}

#[utoipa::path(
    post,
    path = "/api/auth/passkey",
    tag = "auth",
    request_body(content = PasskeySignIn),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
        ("__Secure-refresh_token" = Option<String>, Cookie, description = "A session this browser still holds: it ends (`session_replaced`)"),
        ("DPoP" = Option<String>, Header, description = "A DPoP proof (RFC 9449) for this request: the session and its tokens are bound to its key"),
    ),
    responses(
        (status = 200, description = "Signed in, as by `POST /api/auth/login`: the access token (`amr`: `[\"hwk\", \"user\"]`) in the body, the refresh token in the cookie", body = TokenResponse,
            headers(("Set-Cookie" = String, description = "`__Secure-refresh_token=…; HttpOnly; Secure; SameSite=Strict; Path=/api/auth; Max-Age=…` and the device cookie"))),
        (status = 400, description = "The passkey's answer was refused — not a credential, an unknown, expired or already used challenge (any answer uses it up), another origin or relying party, a bad signature, no user verification, a passkey registered nowhere, a counter that did not go up (`passkey_clone_suspected`), passkeys off — and nothing changed; or a body that is not JSON; or a DPoP proof that does not pass", body = ErrorBody,
            examples(
                ("passkey_refused" = (value = json!({"error": "passkey_refused", "message": "This passkey prompt was already used or has expired: try again."}))),
                ("bad_request" = (value = json!({"error": "bad_request", "message": "The request body is not valid JSON."}))),
                ("invalid_dpop_proof" = (value = json!({"error": "invalid_dpop_proof", "message": "The DPoP proof was made for another URL (`htu`)."})))
            )),
        (status = 403, description = "The CSRF guard refused the request", body = ErrorBody,
            example = json!({"error": "csrf_rejected", "message": "This endpoint requires the header `X-Requested-With: XMLHttpRequest`."})),
    )
)]
/// `POST /api/auth/passkey` `{"credential"}` → 200 [`TokenResponse`] + cookies, as login.
pub async fn sign_in(
    State(state): State<AppState>,
    who: Client,
    dpop: DpopProof,
    presented: PresentedRefresh,
    jar: CookieJar,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    // The proof first: a bad one uses up no ceremony.
    let dpop_jkt = dpop.key_to_bind(&state).await?;
    let credential = body.get("credential").cloned().unwrap_or(Value::Null);
    let proved = state.passkeys.sign_in(credential, &who).await?;
    tracing::info!(user = proved.user_id.0, passkey = %proved.passkey_id, "passkey sign-in");
    signed_in(
        &state,
        SignedIn {
            user_id: proved.user_id,
            username: proved.username,
            client: who,
            dpop_jkt,
            method: Method::Passkey,
        },
        &presented,
        jar,
        StatusCode::OK,
    )
    .await
}

/// A re-authentication of signed-in `user_id` with a passkey: `credential` must answer an
/// authentication ceremony (`POST /api/auth/passkey/options`) with one of **their** passkeys.
/// Another account's passkey is refused, and changes nothing.
pub(crate) async fn confirm_passkey(
    state: &AppState,
    who: &Client,
    user_id: UserId,
    credential: Value,
) -> Result<(), ApiError> {
    let proved = state
        .passkeys
        .reauthenticate(user_id, credential, who)
        .await?;
    tracing::info!(user = user_id.0, passkey = %proved.passkey_id, "passkey re-authentication");
    Ok(())
}
