//! The API described: an OpenAPI 3.1 document generated from the handlers' `#[utoipa::path]`
//! annotations and the `tokenpair-api` types (feature `openapi`), served at
//! `GET /api/openapi.json`.
//!
//! The routes are registered through utoipa-axum's `routes!` — the path a handler is mounted at
//! is the one its annotation documents — so the document cannot leave a route out; the only
//! plain axum routes are the catch-alls (`/api/*` 404, the SPA), listed in
//! [`UNDOCUMENTED_ROUTES`] and checked by `server/tests/openapi.rs`, which also sends every
//! documented operation to the real router and deserializes every example into its type.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::state::AppState;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// The plain axum routes, which the document leaves out on purpose.
pub const UNDOCUMENTED_ROUTES: &[&str] = &["/api", "/api/", "/api/{*rest}", "the SPA fallback"];

/// The document's fixed parts: title, version, security schemes, the error body.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "tokenpair API",
        description = "Access token in memory, refresh token in an HttpOnly cookie: the API of \
                       tokenpair's companion server. Every error has the body `ErrorBody`; its \
                       `error` is one of `ErrorCode`. Every documented `/api` path answers a \
                       method it does not list with 405 `method_not_allowed`, and an unknown \
                       `/api` path with 404 `not_found`.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(tokenpair_api::ErrorBody, tokenpair_api::ErrorCode)),
    tags(
        (name = "auth", description = "Sign-in, refresh, sign-out: cookie endpoints behind the CSRF guard"),
        (name = "account", description = "The signed-in user, sessions and security activity (Bearer)"),
        (name = "service", description = "Health, public keys, this document")
    )
)]
pub struct ApiDoc;

/// `bearer` (the access token) and `refresh_cookie` (the HttpOnly refresh cookie).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, api: &mut Document) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "The access token from the sign-in or refresh answer, kept in memory",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::http::cookies::REFRESH_COOKIE,
                "The refresh token: HttpOnly; Secure; SameSite=Strict; Path=/api/auth. Set by \
                 sign-in and refresh, rotated at every refresh, cleared by a 401 of refresh and \
                 by sign-out",
            ))),
        );
    }
}

/// The finished document, serialised once (kept in [`AppState::openapi`]).
pub fn serialise(doc: &Document) -> Arc<str> {
    Arc::from(doc.to_json().unwrap_or_else(|_| "{}".to_owned()))
}

/// `GET /api/openapi.json`: this API as OpenAPI 3.1.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "service",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json(State(state): State<AppState>) -> impl IntoResponse {
    let json = state
        .openapi
        .get()
        .map_or_else(String::new, |s| s.to_string());
    ([(header::CONTENT_TYPE, "application/json")], json)
}
