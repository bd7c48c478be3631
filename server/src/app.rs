//! Application state, the router and its layers, and `serve`.
//!
//! ```text
//! /api/auth/{register,login,refresh,logout}  POST, CSRF-guarded, cookie   routes/auth.rs
//! /api/me                                     GET, Bearer                  routes/me.rs
//! /api/sessions, /api/sessions/{id}           GET / DELETE, Bearer         routes/sessions.rs
//! /api/health                                 GET
//! /api/*  (anything else)                     JSON 404 / 405
//! everything else                             the SPA                      spa.rs
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::db::{Db, DbError};
use crate::error::ApiError;
use crate::passwords::{hash_blocking, PasswordError, Passwords};
use crate::sessions::{SessionPolicy, Sessions};
use crate::throttle::Throttle;
use crate::tokens::AccessTokens;
use crate::users::{Users, DEMO_USERS};
use crate::{csrf, routes, spa};

/// Request bodies above this are refused with 413.
pub const BODY_LIMIT: usize = 16 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub users: Users,
    pub passwords: Passwords,
    pub tokens: Arc<AccessTokens>,
    pub sessions: Sessions,
    pub throttle: Arc<Throttle>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database {path}: {source}")]
    Database { path: String, source: DbError },
    #[error(transparent)]
    Passwords(#[from] PasswordError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

impl AppState {
    /// Opens the database, seeds the demo accounts into an empty one, and prepares the keys.
    /// Blocking (Argon2 runs); call it before serving.
    pub fn new(config: Config) -> Result<Self, StartupError> {
        let db_err = |source| StartupError::Database {
            path: config.database_path.display().to_string(),
            source,
        };
        let db = Db::open(&config.database_path).map_err(db_err)?;
        let users = Users::new(db.clone());
        if config.demo_users && users.count_blocking().map_err(db_err)? == 0 {
            for (name, password) in DEMO_USERS {
                let hash = hash_blocking(password)?;
                db.call_blocking(move |c| {
                    c.execute(
                        "INSERT INTO users (username, password_hash, created_at) VALUES (?1, ?2, ?3)",
                        rusqlite::params![name, hash, crate::db::now_ms()],
                    )?;
                    Ok(())
                })
                .map_err(db_err)?;
            }
            tracing::info!("created the demo accounts user1/password1 and user2/password2");
        }
        let (tokens, generated) = AccessTokens::new(&config);
        if generated {
            tracing::warn!(
                "ACCESS_TOKEN_SECRET is not set: generated a random signing key for this run \
                 (access tokens will not survive a restart; sessions will)"
            );
        }
        let policy = SessionPolicy {
            absolute: config.refresh_token_expiry,
            idle: config.refresh_token_idle_timeout,
            grace: config.refresh_reuse_grace,
            access_lifetime: config.access_token_expiry
                + config.access_token_leeway
                + Duration::from_secs(1),
        };
        let sessions = Sessions::new(db, policy).map_err(db_err)?;
        Ok(AppState {
            config: Arc::new(config),
            users,
            passwords: Passwords::new()?,
            tokens: Arc::new(tokens),
            sessions,
            throttle: Arc::default(),
        })
    }
}

pub fn router(state: AppState) -> Router {
    let auth = Router::new()
        .route("/register", post(routes::auth::register))
        .route("/login", post(routes::auth::login))
        .route("/refresh", post(routes::auth::refresh))
        .route("/logout", post(routes::auth::logout))
        .route_layer(middleware::from_fn_with_state(state.clone(), csrf::guard));

    let api = Router::new()
        .nest("/auth", auth)
        .route("/me", get(routes::me::me))
        .route("/sessions", get(routes::sessions::list))
        .route("/sessions/{id}", delete(routes::sessions::revoke))
        .route("/health", get(routes::health))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    // `nest("/api", …)` matches `/api` and `/api/<something>` but not `/api/` itself, which
    // would otherwise fall through to the SPA: answer it with the API's JSON 404 as well.
    let api_slash = Router::new().route("/api/", any(routes::not_found));

    Router::new()
        .nest("/api", api_layers(api))
        .merge(api_layers(api_slash))
        .merge(spa::router(&state))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// What every `/api` response gets: the body limit, and headers that keep tokens and personal
/// data out of every cache and any rendering context.
fn api_layers(api: Router<AppState>) -> Router<AppState> {
    api.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_large_bodies))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
}

/// 413 up front for a declared `Content-Length` over the limit, whatever the route reads.
async fn refuse_large_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return ApiError::PayloadTooLarge.into_response();
    }
    next.run(request).await
}

/// Serves until `shutdown` resolves. Also runs the periodic cleanup of ended sessions.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartupError> {
    let sessions = state.sessions.clone();
    let cleanup = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            match sessions.cleanup().await {
                Ok(n) if n > 0 => tracing::info!(deleted = n, "cleaned up ended sessions"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "session cleanup failed"),
            }
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    cleanup.abort();
    result.map_err(StartupError::Serve)
}
