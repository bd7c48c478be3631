//! `AppState`: what every handler can reach, built once at startup. Handlers and extractors
//! import this module — never the router ([`crate::http::app`]), which imports them.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Config;
use crate::db::health::DbHealth;
use crate::db::{Db, DbError};
use crate::dpop::Dpop;
use crate::passkeys::{BadRelyingParty, Passkeys};
use crate::passwords::{PasswordError, Passwords};
use crate::secrets::Secrets;
use crate::security_events::SecurityEvents;
use crate::sessions::{SessionPolicy, Sessions, TokenMinter};
use crate::throttle::Throttle;
use crate::token_pair::TokenPairs;
use crate::tokens::{AccessTokens, Mode};
use crate::trusted_devices::TrustedDevices;
use crate::users::{CreateUserError, Users};

/// Cheap to clone (one reference count): axum clones the state for every request.
#[derive(Clone)]
pub struct AppState(Arc<Parts>);

impl std::ops::Deref for AppState {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// What the state holds.
pub struct Parts {
    pub config: Arc<Config>,
    pub db: Db,
    pub users: Users,
    pub passwords: Passwords,
    pub tokens: Arc<AccessTokens>,
    pub sessions: Sessions,
    /// Sign-in and refresh, as the handlers see them: a session and its token pair.
    pub token_pairs: TokenPairs,
    pub throttle: Throttle,
    pub devices: TrustedDevices,
    pub events: SecurityEvents,
    /// DPoP proofs: checked, used once, nonces ([`crate::dpop`]).
    pub dpop: Dpop,
    /// Passkeys (WebAuthn): registration, sign-in, re-authentication ([`crate::passkeys`]).
    pub passkeys: Passkeys,
    pub health: DbHealth,
    /// The time every service reads ([`crate::clock`]).
    pub clock: Clock,
    /// `GET /api/openapi.json`'s body, made when the router is built ([`crate::http::openapi`]).
    pub openapi: std::sync::OnceLock<Arc<str>>,
    /// Sessions that began before this (unix ms) may still present the refresh cookie's old
    /// name ([`crate::http::cookies`]).
    pub legacy_cookie_cutoff: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database {database}: {source}")]
    Database { database: String, source: DbError },
    #[error("cannot create the demo accounts: {0}")]
    Seed(#[from] CreateUserError),
    #[error(transparent)]
    Passwords(#[from] PasswordError),
    #[error(transparent)]
    Passkeys(#[from] BadRelyingParty),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

impl AppState {
    /// Connects to the database (applying migrations), seeds the demo accounts into an empty
    /// one, prepares the keys and loads the recent revocations.
    pub async fn new(config: Config) -> Result<Self, StartupError> {
        AppState::with_clock(config, Clock::System).await
    }

    /// [`AppState::new`] on another clock (tests move a [`Clock::manual`] through hours of
    /// sessions in a moment).
    pub async fn with_clock(config: Config, clock: Clock) -> Result<Self, StartupError> {
        let db_err = |source| StartupError::Database {
            database: config.database.describe(),
            source,
        };
        let db = Db::connect(&config.database).await.map_err(db_err)?;
        let health = DbHealth::new(db.clone());
        let secrets = Secrets::load(&db).await.map_err(db_err)?;
        let limits = config.limits.password_queue;
        let passwords = tokio::task::spawn_blocking(move || Passwords::new(limits))
            .await
            .map_err(PasswordError::from)??;
        let events = SecurityEvents::new(db.clone(), config.security_events, clock.clone());
        let users = Users::new(db.clone(), events.clone(), clock.clone());
        if config.demo_users && users.seed_demo_accounts(&passwords).await? {
            tracing::info!("created the demo accounts user1/password1 and user2/password2");
        }
        let reachable =
            !config.network.public_url.is_loopback() || !config.network.addr.ip().is_loopback();
        if reachable {
            let usable = users.demo_accounts_usable(&passwords).await?;
            if !usable.is_empty() {
                tracing::warn!(
                    accounts = ?usable,
                    public_url = config.network.public_url.origin(),
                    listen = %config.network.addr,
                    "demo accounts with their published passwords exist on a server others can \
                     reach: delete them (DELETE FROM users WHERE username IN ('user1', 'user2'); \
                     their sessions go with them) — DEMO_USERS is for trying tokenpair on this \
                     machine"
                );
            }
        }
        let tokens = AccessTokens::start(&config.tokens, &db)
            .await
            .map_err(db_err)?;
        match tokens.mode() {
            Mode::Hs256 => {
                tracing::info!(kid = ?tokens.kid(), "signing access tokens with HS256 (ACCESS_TOKEN_SECRET)")
            }
            Mode::Ed25519 { .. } => {
                tracing::info!(
                    kid = ?tokens.kid(),
                    "signing access tokens with Ed25519 keys from the database; public keys at /.well-known/jwks.json"
                );
                if config.tokens.key_encryption.current.is_none() {
                    tracing::warn!(
                        "the signing keys are stored unsealed (demo mode): set \
                         SIGNING_KEY_ENCRYPTION_KEY before anyone else can reach this server"
                    );
                }
            }
        }
        let policy = SessionPolicy {
            absolute: config.sessions.refresh_token_expiry,
            idle: config.sessions.refresh_token_idle_timeout,
            grace: config.sessions.refresh_reuse_grace,
            access_lifetime: config.tokens.access_token_expiry
                + config.tokens.access_token_leeway
                + Duration::from_secs(1),
            refresh_per_minute: config.sessions.refresh_rate_limit,
            max_per_user: config.sessions.max_per_user,
        };
        let sessions = Sessions::new(
            db.clone(),
            policy,
            TokenMinter::new(secrets.refresh_mac),
            events.clone(),
            clock.clone(),
        )
        .await
        .map_err(db_err)?;
        let tokens = Arc::new(tokens);
        let token_pairs = TokenPairs::new(
            sessions.clone(),
            tokens.clone(),
            config.sessions.refresh_token_idle_timeout,
            clock.clone(),
        );
        let dpop = Dpop::new(db.clone(), config.dpop, secrets.dpop_nonce, clock.clone());
        let passkeys = Passkeys::new(&config.passkeys, db.clone(), events.clone(), clock.clone())?;
        if !passkeys.available() {
            tracing::warn!(
                rp_id = %config.passkeys.id,
                "passkeys are off: WebAuthn never accepts an IP address as the relying party id \
                 ({}), and browsers refuse passkeys on a page opened by IP address. To use \
                 passkeys, set PUBLIC_URL=http://localhost:{} (and open that URL), or \
                 WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN",
                config.passkeys.id,
                config.network.addr.port()
            );
        }
        Ok(AppState(Arc::new(Parts {
            config: Arc::new(config),
            throttle: Throttle::new(db.clone(), events.clone(), clock.clone()),
            dpop,
            passkeys,
            events,
            db,
            users,
            passwords,
            tokens,
            token_pairs,
            sessions,
            devices: TrustedDevices::new(secrets.device_mac),
            legacy_cookie_cutoff: secrets.secure_cookie_since,
            health,
            clock,
            openapi: std::sync::OnceLock::new(),
        })))
    }
}
