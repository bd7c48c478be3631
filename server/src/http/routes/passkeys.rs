//! `/api/passkeys/*`: the signed-in user's passkeys (Bearer) — list, add (a registration
//! ceremony: options, then the authenticator's answer), rename, delete. Adding and deleting
//! are dangerous actions ([`Recent`]); listing and renaming are not. Every route is behind the
//! CSRF guard. The work is [`crate::passkeys`]'.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokenpair_api::{ErrorBody, PasskeyInfo, PasskeyName as NewName};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::extract::{ApiJson, ApiPath, Authenticated, NoBody};
use crate::http::step_up::Recent;
use crate::passkeys::PasskeyName;
use crate::security_events::Client;
use crate::state::AppState;

/// `/api/passkeys`, `/api/passkeys/{id}` and `/api/passkeys/registration/options`.
pub fn router(state: &AppState) -> OpenApiRouter<AppState> {
    super::guarded(
        OpenApiRouter::new()
            .routes(routes!(registration_options))
            .routes(routes!(list, add))
            .routes(routes!(rename, delete)),
        state,
    )
}

/// Body of `POST /api/passkeys`.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "Laptop", "credential": {"id": "V0GVeq7gJgRWzCcLroyaoH2VOIcx2R9ig2kw4_-s1H0", "rawId": "V0GVeq7gJgRWzCcLroyaoH2VOIcx2R9ig2kw4_-s1H0", "type": "public-key", "authenticatorAttachment": "platform", "response": {"clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoicXZYMTZHNEd4LWNrUGVYdVVONVdHWldha2doYWtBY3FNY0VBTUllSlBzSSIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6ODA4MCJ9", "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVik", "transports": ["internal", "hybrid"]}, "clientExtensionResults": {"credProps": {"rk": true}}}}))]
pub struct NewPasskey {
    /// What to call it: trimmed, 1 to 64 characters; missing or blank: `Passkey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `credential.toJSON()` of `navigator.credentials.create`, made with the options of
    /// `POST /api/passkeys/registration/options`.
    #[schema(value_type = Object)]
    pub credential: Value,
}

#[utoipa::path(
    post,
    path = "/api/passkeys/registration/options",
    tag = "account",
    security(("bearer" = [])),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 200, description = "The options of `navigator.credentials.create` (webauthn-rs' `CreationChallengeResponse`): pass `publicKey` through `PublicKeyCredential.parseCreationOptionsFromJSON`. Valid once, for 5 minutes. No body, or `{}`, is sent", content_type = "application/json",
            example = json!({"publicKey": {"rp": {"name": "tokenpair", "id": "localhost"}, "user": {"id": "RH4NxugYTbu4imD0O6EGMA", "name": "user1", "displayName": "user1"}, "challenge": "qvX16G4Gx-ckPeXuUN5WGZWakghakAcqMcEAMIeJPsI", "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}], "timeout": 300000, "excludeCredentials": [], "authenticatorSelection": {"residentKey": "required", "requireResidentKey": true, "userVerification": "required"}, "attestation": "none", "extensions": {"credentialProtectionPolicy": "userVerificationRequired", "enforceCredentialProtectionPolicy": false, "uvm": true, "credProps": true}}})),
        (status = 400, description = "Passkeys are off on this server (its relying party id is an IP address); or a body that is neither empty nor a JSON object", body = ErrorBody,
            examples(
                ("passkey_refused" = (value = json!({"error": "passkey_refused", "message": "Passkeys need a domain name such as localhost: this server is set up for the IP address 127.0.0.1, which passkeys never work with (its operator can set PUBLIC_URL, or WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN)."}))),
                ("bad_request" = (value = json!({"error": "bad_request", "message": "The request body is not valid JSON."})))
            )),
        (status = 401, description = "No valid access token; or a sign-in older than `REAUTH_MAX_AGE` (adding a passkey is a dangerous action: re-authenticate, then try again)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_user_authentication\", error_description=\"…\", max_age=600`, or the `invalid_token` challenge")),
            examples(
                ("insufficient_user_authentication" = (value = json!({"error": "insufficient_user_authentication", "message": "This action needs a recent sign-in: confirm it is you, then try again."}))),
                ("invalid_token" = (value = json!({"error": "invalid_token", "message": "The access token has expired."})))
            )),
        (status = 403, description = "The CSRF guard refused the request", body = ErrorBody,
            example = json!({"error": "csrf_rejected", "message": "This endpoint requires the header `X-Requested-With: XMLHttpRequest`."})),
    )
)]
/// `POST /api/passkeys/registration/options` → 200 the creation options.
pub async fn registration_options(
    State(state): State<AppState>,
    Recent(caller): Recent,
    _: NoBody,
) -> Result<Json<Value>, ApiError> {
    let user = state
        .users
        .by_id(caller.user_id)
        .await?
        .ok_or_else(|| ApiError::InvalidToken("The account no longer exists.".into()))?;
    let options = state
        .passkeys
        .registration_options(caller.user_id, &user.username)
        .await?;
    Ok(Json(options))
}

#[utoipa::path(
    post,
    path = "/api/passkeys",
    tag = "account",
    security(("bearer" = [])),
    request_body(content = NewPasskey),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 201, description = "Added (a `passkey_added` security event)", body = PasskeyInfo),
        (status = 400, description = "The credential was refused — not a credential, an unknown, expired or already used options challenge (the ceremony is used up by any answer, refused or not), another origin, a passkey already registered, passkeys off — nothing was added; or a body that is not JSON", body = ErrorBody,
            examples(
                ("passkey_refused" = (value = json!({"error": "passkey_refused", "message": "This passkey is already registered."}))),
                ("bad_request" = (value = json!({"error": "bad_request", "message": "The request body is not valid JSON."})))
            )),
        (status = 401, description = "No valid access token; or a sign-in older than `REAUTH_MAX_AGE` (re-authenticate, then send it again)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_user_authentication\", error_description=\"…\", max_age=600`")),
            example = json!({"error": "insufficient_user_authentication", "message": "This action needs a recent sign-in: confirm it is you, then try again."})),
        (status = 422, description = "A name that breaks the rules", body = ErrorBody,
            example = json!({"error": "validation_failed", "message": "A passkey's name must be 1 to 64 characters long (it is 65)."})),
    )
)]
/// `POST /api/passkeys` `{"name"?, "credential"}` → 201 [`PasskeyInfo`].
pub async fn add(
    State(state): State<AppState>,
    Recent(caller): Recent,
    who: Client,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<PasskeyInfo>), ApiError> {
    // Read by hand: any JSON that is not a credential is a refused credential (400), not 422.
    let name = match body.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.as_str()),
        Some(_) => return Err(ApiError::Validation("`name` must be a string.".into())),
    };
    let name = PasskeyName::or_default(name)?;
    let credential = body.get("credential").cloned().unwrap_or(Value::Null);
    let added = state
        .passkeys
        .register(caller.user_id, &name, credential, &who)
        .await?;
    tracing::info!(user = caller.user_id.0, passkey = %added.id, "passkey added");
    Ok((StatusCode::CREATED, Json(added.to_api())))
}

#[utoipa::path(
    get,
    path = "/api/passkeys",
    tag = "account",
    security(("bearer" = [])),
    params(
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 200, description = "The user's passkeys, oldest first", body = [PasskeyInfo]),
        (status = 401, description = "No, a malformed, forged, expired or revoked access token", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"tokenpair\", error=\"invalid_token\", error_description=\"…\"`")),
            example = json!({"error": "invalid_token", "message": "The access token has expired."})),
    )
)]
/// `GET /api/passkeys` → 200 `[PasskeyInfo]`, oldest first.
pub async fn list(
    State(state): State<AppState>,
    auth: Authenticated,
) -> Result<Json<Vec<PasskeyInfo>>, ApiError> {
    let rows = state.passkeys.list(auth.user_id).await?;
    Ok(Json(rows.iter().map(|p| p.to_api()).collect()))
}

#[utoipa::path(
    patch,
    path = "/api/passkeys/{id}",
    tag = "account",
    security(("bearer" = [])),
    request_body(content = NewName),
    params(
        ("id" = String, Path, description = "A passkey id from `GET /api/passkeys`"),
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 200, description = "Renamed (a `passkey_renamed` security event)", body = PasskeyInfo),
        (status = 404, description = "No such passkey of yours", body = ErrorBody,
            example = json!({"error": "not_found", "message": "No such passkey."})),
        (status = 422, description = "A name that breaks the rules", body = ErrorBody,
            example = json!({"error": "validation_failed", "message": "A passkey's name must be 1 to 64 characters long (it is 0)."})),
        (status = 401, description = "No, a malformed, forged, expired or revoked access token", body = ErrorBody,
            example = json!({"error": "invalid_token", "message": "The access token has expired."})),
    )
)]
/// `PATCH /api/passkeys/{id}` `{"name"}` → 200 [`PasskeyInfo`]. Not a dangerous action.
pub async fn rename(
    State(state): State<AppState>,
    auth: Authenticated,
    who: Client,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<NewName>,
) -> Result<Json<PasskeyInfo>, ApiError> {
    let name = PasskeyName::new(&body.name)?;
    let renamed = state
        .passkeys
        .rename(auth.user_id, &id, &name, &who)
        .await?;
    Ok(Json(renamed.to_api()))
}

#[utoipa::path(
    delete,
    path = "/api/passkeys/{id}",
    tag = "account",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "A passkey id from `GET /api/passkeys`"),
        ("X-Requested-With" = String, Header, description = "Must be `XMLHttpRequest` (the CSRF guard)", example = "XMLHttpRequest"),
    ),
    responses(
        (status = 204, description = "Deleted (a `passkey_deleted` security event): it signs nobody in any more"),
        (status = 404, description = "No such passkey of yours", body = ErrorBody,
            example = json!({"error": "not_found", "message": "No such passkey."})),
        (status = 401, description = "No valid access token; or a sign-in older than `REAUTH_MAX_AGE` (deleting a passkey is a dangerous action: re-authenticate, then try again)", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer error=\"insufficient_user_authentication\", error_description=\"…\", max_age=600`")),
            example = json!({"error": "insufficient_user_authentication", "message": "This action needs a recent sign-in: confirm it is you, then try again."})),
    )
)]
/// `DELETE /api/passkeys/{id}` → 204.
pub async fn delete(
    State(state): State<AppState>,
    Recent(caller): Recent,
    who: Client,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.passkeys.delete(caller.user_id, &id, &who).await?;
    tracing::info!(user = caller.user_id.0, passkey = %id, "passkey deleted");
    Ok(StatusCode::NO_CONTENT)
}
