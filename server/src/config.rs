//! Command-line flags (with environment-variable fallbacks) and the validated [`Config`].
//!
//! `tokenpair-server --help` prints all of them; docs/deploy.md's "Configuration reference" is checked
//! against that output by a test, so the two cannot drift.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::authentication::Recency;
use crate::db::Database;
use crate::dpop::{DpopMode, DpopPolicy};
use crate::forwarding::{AddressHeader, BadProxy, TrustedProxies};
use crate::key_encryption::{Kek, KeyEncryption};
use crate::passkeys::{ceremonies, BadRelyingParty, RelyingParty};
use crate::passwords::QueueLimits;
use crate::public_url::{BadPublicUrl, PublicUrl};
use crate::security_events::{AddressPolicy, EventPolicy};

/// How often every instance re-reads the signing keys (a rotation elsewhere is picked up within
/// this).
pub const KEY_RELOAD_EVERY: Duration = Duration::from_secs(30);

/// The smallest HMAC secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_BYTES: usize = 32;

/// tokenpair's companion backend: issues short-lived access tokens (JWT) and rotating refresh
/// tokens (HttpOnly cookie), and serves the built SPA from the same origin.
#[derive(Debug, Clone, Parser)]
#[command(name = "tokenpair-server", version, about, long_about = None)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,

    /// Directory holding the built SPA (trunk's `dist/`). Client-side routes get its index.html;
    /// a missing file is a 404.
    #[arg(long, env = "STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// Database: an SQLite file (`sqlite://path/to/file.db`, `sqlite:file.db` or a plain path;
    /// created with its directory) or PostgreSQL (`postgres://user:password@host/db`, for
    /// several instances on one database). Migrations are applied at startup.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/tokenpair.db"
    )]
    pub database_url: String,

    /// HMAC-SHA256 key for access tokens (HS256 mode), at least 32 bytes of random data
    /// (e.g. `openssl rand -base64 48`). Unset: access tokens are signed with Ed25519 keys kept
    /// in the database and published at /.well-known/jwks.json.
    #[arg(long, env = "ACCESS_TOKEN_SECRET", hide_env_values = true)]
    pub access_token_secret: Option<String>,

    /// The previous access-token key, accepted for verification only while clients still hold
    /// tokens signed with it (key rotation). Same length rule as the current key.
    #[arg(long, env = "ACCESS_TOKEN_PREVIOUS_SECRET", hide_env_values = true)]
    pub access_token_previous_secret: Option<String>,

    /// Ed25519 mode: the key-encryption key that seals the signing keys in the database, at
    /// least 32 bytes of random data (`openssl rand -base64 48`). Required in Ed25519 mode,
    /// except with DEMO_USERS (trying it out on this machine).
    #[arg(long, env = "SIGNING_KEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub signing_key_encryption_key: Option<String>,

    /// The previous key-encryption key, while rotating it: keys sealed under it are opened and
    /// sealed again under SIGNING_KEY_ENCRYPTION_KEY at start.
    #[arg(
        long,
        env = "SIGNING_KEY_PREVIOUS_ENCRYPTION_KEY",
        hide_env_values = true
    )]
    pub signing_key_previous_encryption_key: Option<String>,

    /// Ed25519 mode: how long a signing key signs before the next one (published since the
    /// previous rotation) takes over. `tokenpair-server keys rotate` rotates at once.
    #[arg(long, env = "SIGNING_KEY_ROTATION", default_value = "30d", value_parser = parse_duration)]
    pub signing_key_rotation: Duration,

    /// Lifetime of an access token (humantime: `30s`, `5m`, `1h`).
    #[arg(long, env = "ACCESS_TOKEN_EXPIRY", default_value = "5m", value_parser = parse_duration)]
    pub access_token_expiry: Duration,

    /// Clock-skew allowance when checking an access token's `exp`/`nbf`. The server that issues
    /// the tokens also checks them, so there is no skew to allow for by default.
    #[arg(long, env = "ACCESS_TOKEN_LEEWAY", default_value = "0s", value_parser = parse_duration)]
    pub access_token_leeway: Duration,

    /// Absolute lifetime of a session (a refresh-token family); rotation never extends it.
    #[arg(long, env = "REFRESH_TOKEN_EXPIRY", default_value = "7d", value_parser = parse_duration)]
    pub refresh_token_expiry: Duration,

    /// A session unused (not refreshed) for this long ends.
    #[arg(long, env = "REFRESH_TOKEN_IDLE_TIMEOUT", default_value = "1d", value_parser = parse_duration)]
    pub refresh_token_idle_timeout: Duration,

    /// How long the immediate predecessor of the current refresh token is still answered
    /// (two tabs refreshing at once, a retry after a lost response) instead of counting as reuse.
    #[arg(long, env = "REFRESH_REUSE_GRACE", default_value = "10s", value_parser = parse_duration)]
    pub refresh_reuse_grace: Duration,

    /// Refreshes allowed per session per minute; beyond it a refresh answers 429 `rate_limited`
    /// with `Retry-After` and the token stays valid. 0 turns the limit off.
    #[arg(long, env = "REFRESH_RATE_LIMIT", default_value_t = 30)]
    pub refresh_rate_limit: u32,

    /// Live sessions one user may have. A sign-in beyond it ends the user's least recently
    /// used session (reason `evicted`).
    #[arg(long, env = "MAX_SESSIONS_PER_USER", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_sessions_per_user: u32,

    /// How recent the sign-in (or re-authentication) behind a dangerous action must be: sign
    /// out everywhere, end another device's session, add or delete a passkey, change the
    /// password. An older one gets 401 `insufficient_user_authentication` (RFC 9470) with
    /// `max_age` in the `WWW-Authenticate` challenge. 0: every dangerous action needs a
    /// re-authentication within the same second.
    #[arg(long, env = "REAUTH_MAX_AGE", default_value = "10m", value_parser = parse_duration)]
    pub reauth_max_age: Duration,

    /// How long a connection may take to send a complete request head, counted from when the
    /// server starts waiting for one: on a new connection and, on a kept-alive one, after the
    /// previous response — so it is also the idle keep-alive timeout. The body of a request to
    /// /api/auth/* must arrive whole within it, and a response that cannot be written for as
    /// long (the client stopped reading) ends the connection.
    #[arg(long, env = "HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,

    /// Most connections served at once; further ones wait in the listen queue until one
    /// closes. 0 = three quarters of the open-files limit (raised to its hard limit at start).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// On SIGTERM or Ctrl-C: how long requests in flight may take to finish before the server
    /// exits anyway (connections that are idle or mid-request-head are closed at once).
    #[arg(long, env = "SHUTDOWN_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub shutdown_timeout: Duration,

    /// `iss` claim of issued access tokens (and the only one accepted).
    #[arg(long, env = "TOKEN_ISSUER", default_value = "tokenpair")]
    pub token_issuer: String,

    /// `aud` claim of issued access tokens (and the only one accepted).
    #[arg(long, env = "TOKEN_AUDIENCE", default_value = "tokenpair-api")]
    pub token_audience: String,

    /// The origin people reach the service at (`https://auth.example.com`): the cookie
    /// endpoints then accept only this Origin (and ALLOWED_ORIGINS). Unset: derived from the
    /// listen address, and a request's Host or X-Forwarded-Host also counts (local use).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Extra origins allowed to call the cookie endpoints besides the server's own
    /// (comma-separated, e.g. `http://127.0.0.1:8081` for a dev server on another port).
    #[arg(long, env = "ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// The WebAuthn relying party id passkeys are made for: a domain name — the host people
    /// reach the service at, or a domain it belongs to (`example.com` for `auth.example.com`).
    /// Unset: the host of WEBAUTHN_ORIGIN. An IP address (the default 127.0.0.1) leaves
    /// passkeys off: browsers never accept one.
    #[arg(long, env = "WEBAUTHN_RP_ID")]
    pub webauthn_rp_id: Option<String>,

    /// The origin of the pages that use the passkeys (`https://auth.example.com`). Unset:
    /// PUBLIC_URL's origin. ALLOWED_ORIGINS are accepted too; on `localhost` any port is.
    #[arg(long, env = "WEBAUTHN_ORIGIN")]
    pub webauthn_origin: Option<String>,

    /// Proxies whose forwarding headers are believed (comma-separated addresses or CIDRs, e.g.
    /// `127.0.0.1,10.0.0.0/8`). From them the client address (throttles, logs) is read from
    /// the header, rightmost untrusted hop first; from anyone else the header is ignored.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Which header a trusted proxy reports the client in: `x-forwarded-for`, `forwarded`
    /// (RFC 7239), or `auto` (X-Forwarded-For if present, else Forwarded). Name the one your
    /// proxy sets, so one a client sent through it is never read.
    #[arg(long, env = "CLIENT_ADDRESS_HEADER", value_enum, default_value_t = AddressHeader::Auto)]
    pub client_address_header: AddressHeader,

    /// How IPv6 clients are counted by the per-address limits (sign-in and registration
    /// throttles, the Argon2 queue): by the network of this prefix length, since one subscriber
    /// usually holds a whole /64. 128 counts single addresses.
    #[arg(long, env = "IPV6_CLIENT_PREFIX", default_value_t = 64, value_parser = clap::value_parser!(u8).range(32..=128))]
    pub ipv6_client_prefix: u8,

    /// Create the demo accounts (user1/password1, user2/password2) in an empty database.
    /// For trying tokenpair out only: `make run` and the tests set it (`DEMO_USERS=1`).
    #[arg(long, env = "DEMO_USERS", value_parser = clap::builder::BoolishValueParser::new())]
    pub demo_users: bool,

    /// How much of the client address a security event keeps: `full`, `truncated` (the
    /// network: IPv4 /24, IPv6 /48) or `none`.
    #[arg(long, env = "SECURITY_EVENT_ADDRESS", default_value = "truncated")]
    pub security_event_address: AddressPolicy,

    /// How long security events are kept (the prune job deletes older ones).
    #[arg(long, env = "SECURITY_EVENT_RETENTION", default_value = "90d", value_parser = parse_duration)]
    pub security_event_retention: Duration,

    /// The most security events kept per user (the newest): bounds a flood.
    #[arg(long, env = "SECURITY_EVENT_MAX_PER_USER", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub security_event_max_per_user: u32,

    /// DPoP (RFC 9449): `off`, `optional` (a sign-in that carries a proof binds its session to
    /// the key), or `required` (a sign-in without one is refused).
    #[arg(long, env = "DPOP", value_enum, default_value_t = DpopMode::Optional)]
    pub dpop: DpopMode,

    /// Make DPoP proofs carry a server nonce (`DPoP-Nonce`), the same on every instance.
    #[arg(long, env = "DPOP_NONCE", value_parser = clap::builder::BoolishValueParser::new())]
    pub dpop_nonce: bool,

    /// How far a DPoP proof's `iat` may be from the server's time, either way.
    #[arg(long, env = "DPOP_IAT_WINDOW", default_value = "60s", value_parser = parse_duration)]
    pub dpop_iat_window: Duration,

    /// The log's format: `text` (for people) or `json` (one JSON object per line, for a log
    /// shipper).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Without a command: serve.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `LOG_FORMAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// What else the binary does besides serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// The Ed25519 signing keys in the database (`DATABASE_URL`).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Debug, Clone, Copy, clap::Subcommand)]
pub enum KeysAction {
    /// Every key with its state (next, current, retired) and its timeline.
    List,
    /// The next key (already published) signs from now on; a new next key is published.
    /// Running instances pick it up within 30 s.
    Rotate,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    // A bare number is seconds (`REAUTH_MAX_AGE=600`, like the challenge's `max_age`).
    if let Ok(secs) = s.trim().parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(s).map_err(|e| format!("{e} (examples: 30s, 5m, 1h, 7d)"))
}

/// Why the server refuses to start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "{name} is {len} bytes long; it must be at least {MIN_SECRET_BYTES} bytes of random data \
         (generate one with `openssl rand -base64 48`)"
    )]
    SecretTooShort { name: &'static str, len: usize },
    #[error("{name} must be longer than zero")]
    ZeroDuration { name: &'static str },
    #[error(
        "ACCESS_TOKEN_EXPIRY ({access:?}) must be shorter than REFRESH_TOKEN_EXPIRY ({refresh:?})"
    )]
    AccessOutlivesRefresh { access: Duration, refresh: Duration },
    #[error(
        "DATABASE_URL {0:?} is neither an SQLite URL or path (sqlite://data/tokenpair.db) \
         nor a PostgreSQL URL (postgres://user@host/db)"
    )]
    DatabaseUrl(String),
    #[error(
        "access tokens are signed with Ed25519 keys kept in the database, and nothing protects \
         them there: set SIGNING_KEY_ENCRYPTION_KEY to at least 32 bytes of random data \
         (`openssl rand -base64 48`), or ACCESS_TOKEN_SECRET for HS256 (DEMO_USERS, for trying \
         tokenpair on this machine, allows keys without one)"
    )]
    NoKeyEncryptionKey,
    #[error(
        "SIGNING_KEY_PREVIOUS_ENCRYPTION_KEY is set without SIGNING_KEY_ENCRYPTION_KEY: the \
         previous key only opens keys for sealing them again under the current one"
    )]
    PreviousKekAlone,
    #[error(transparent)]
    TrustedProxy(#[from] BadProxy),
    #[error(transparent)]
    PublicUrl(#[from] BadPublicUrl),
    #[error(transparent)]
    Passkeys(#[from] BadRelyingParty),
}

/// Validated settings the rest of the server runs on, grouped by concern. A field is named after
/// its flag, less a word its group already says (`tokens.issuer` is `TOKEN_ISSUER`,
/// `sessions.max_per_user` is `MAX_SESSIONS_PER_USER`).
#[derive(Debug, Clone)]
pub struct Config {
    pub static_dir: PathBuf,
    pub database: Database,
    pub demo_users: bool,
    pub network: NetworkConfig,
    pub tokens: TokenConfig,
    pub sessions: SessionConfig,
    pub limits: LimitsConfig,
    /// Security activity: the address policy, retention and per-user bound.
    pub security_events: EventPolicy,
    /// DPoP: the mode, nonces and the `iat` window.
    pub dpop: DpopPolicy,
    /// Passkeys: the WebAuthn relying party (`WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGIN`).
    pub passkeys: RelyingParty,
}

/// Where the server listens and how it treats connections: its address and public origin, the
/// origins and proxies it believes, and its connection timeouts and bound.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    pub addr: SocketAddr,
    /// `PUBLIC_URL`, or derived from `addr`.
    pub public_url: PublicUrl,
    pub allowed_origins: Vec<String>,
    pub trusted_proxies: TrustedProxies,
    pub client_address_header: AddressHeader,
    pub ipv6_client_prefix: u8,
    pub header_read_timeout: Duration,
    /// 0 = automatic (see [`Args::max_connections`]).
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

/// Access tokens: how they are signed (an HS256 secret, or Ed25519 keys sealed in the database
/// and rotated), how long they live and the claims they carry.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// `None`: generate a random key at start.
    pub access_token_secret: Option<Vec<u8>>,
    pub access_token_previous_secret: Option<Vec<u8>>,
    /// How the Ed25519 keys are sealed in the database.
    pub key_encryption: KeyEncryption,
    pub signing_key_rotation: Duration,
    pub access_token_expiry: Duration,
    pub access_token_leeway: Duration,
    /// `TOKEN_ISSUER`.
    pub issuer: String,
    /// `TOKEN_AUDIENCE`.
    pub audience: String,
    /// How often the signing keys are re-read (not a flag; tests shorten it).
    pub key_reload_every: Duration,
}

/// Sessions (refresh-token families): their lifetimes, the reuse grace, the refresh rate and how
/// many one user may have.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub refresh_token_expiry: Duration,
    pub refresh_token_idle_timeout: Duration,
    pub refresh_reuse_grace: Duration,
    pub refresh_rate_limit: u32,
    /// `MAX_SESSIONS_PER_USER`.
    pub max_per_user: u32,
    /// `REAUTH_MAX_AGE`.
    pub reauth: Recency,
}

/// Resource limits that are not flags.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// The Argon2 queue (not a flag: the defaults suit every machine; tests narrow them).
    pub password_queue: QueueLimits,
}

impl TryFrom<Args> for Config {
    type Error = ConfigError;

    fn try_from(a: Args) -> Result<Self, Self::Error> {
        let secret = |name, v: Option<String>| match v {
            Some(s) if s.len() < MIN_SECRET_BYTES => {
                Err(ConfigError::SecretTooShort { name, len: s.len() })
            }
            other => Ok(other.map(String::into_bytes)),
        };
        for (name, d) in [
            ("ACCESS_TOKEN_EXPIRY", a.access_token_expiry),
            ("REFRESH_TOKEN_EXPIRY", a.refresh_token_expiry),
            ("REFRESH_TOKEN_IDLE_TIMEOUT", a.refresh_token_idle_timeout),
            ("HEADER_READ_TIMEOUT", a.header_read_timeout),
            ("SIGNING_KEY_ROTATION", a.signing_key_rotation),
            ("SECURITY_EVENT_RETENTION", a.security_event_retention),
            ("DPOP_IAT_WINDOW", a.dpop_iat_window),
        ] {
            if d.is_zero() {
                return Err(ConfigError::ZeroDuration { name });
            }
        }
        if a.access_token_expiry >= a.refresh_token_expiry {
            return Err(ConfigError::AccessOutlivesRefresh {
                access: a.access_token_expiry,
                refresh: a.refresh_token_expiry,
            });
        }
        let addr = SocketAddr::new(a.host, a.port);
        let public_url = match a.public_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => PublicUrl::parse(url)?,
            _ => PublicUrl::derived(addr),
        };
        let kek = |name, v: Option<String>| -> Result<Option<Kek>, ConfigError> {
            Ok(secret(name, v)?.map(|s| Kek::from_secret(&s)))
        };
        let key_encryption = KeyEncryption {
            current: kek("SIGNING_KEY_ENCRYPTION_KEY", a.signing_key_encryption_key)?,
            previous: kek(
                "SIGNING_KEY_PREVIOUS_ENCRYPTION_KEY",
                a.signing_key_previous_encryption_key,
            )?,
        };
        if key_encryption.previous.is_some() && key_encryption.current.is_none() {
            return Err(ConfigError::PreviousKekAlone);
        }
        if a.access_token_secret.is_none() && key_encryption.current.is_none() && !a.demo_users {
            return Err(ConfigError::NoKeyEncryptionKey);
        }
        // The remaining checks, in the order they have always been reported.
        let database = Database::parse(&a.database_url)
            .ok_or_else(|| ConfigError::DatabaseUrl(a.database_url.clone()))?;
        let access_token_secret = secret("ACCESS_TOKEN_SECRET", a.access_token_secret)?;
        let access_token_previous_secret = secret(
            "ACCESS_TOKEN_PREVIOUS_SECRET",
            a.access_token_previous_secret,
        )?;
        let trusted_proxies = TrustedProxies::parse(&a.trusted_proxies)?;
        let allowed_origins: Vec<String> = a
            .allowed_origins
            .into_iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        let passkeys = RelyingParty::resolve(
            a.webauthn_rp_id.as_deref(),
            a.webauthn_origin.as_deref(),
            public_url.origin(),
            &allowed_origins,
        )?;
        // Settings that cannot work refuse to start; an IP address only leaves passkeys off.
        passkeys.webauthn(ceremonies::LIFETIME)?;
        Ok(Config {
            static_dir: a.static_dir,
            database,
            demo_users: a.demo_users,
            network: NetworkConfig {
                addr,
                public_url,
                allowed_origins,
                trusted_proxies,
                client_address_header: a.client_address_header,
                ipv6_client_prefix: a.ipv6_client_prefix,
                header_read_timeout: a.header_read_timeout,
                max_connections: a.max_connections,
                shutdown_timeout: a.shutdown_timeout,
            },
            tokens: TokenConfig {
                access_token_secret,
                access_token_previous_secret,
                key_encryption,
                signing_key_rotation: a.signing_key_rotation,
                access_token_expiry: a.access_token_expiry,
                access_token_leeway: a.access_token_leeway,
                issuer: a.token_issuer,
                audience: a.token_audience,
                key_reload_every: KEY_RELOAD_EVERY,
            },
            sessions: SessionConfig {
                refresh_token_expiry: a.refresh_token_expiry,
                refresh_token_idle_timeout: a.refresh_token_idle_timeout,
                refresh_reuse_grace: a.refresh_reuse_grace,
                refresh_rate_limit: a.refresh_rate_limit,
                max_per_user: a.max_sessions_per_user,
                reauth: Recency {
                    max_age: a.reauth_max_age,
                },
            },
            limits: LimitsConfig {
                password_queue: QueueLimits::default(),
            },
            security_events: EventPolicy {
                address: a.security_event_address,
                retention: a.security_event_retention,
                max_per_user: a.security_event_max_per_user,
            },
            dpop: DpopPolicy {
                mode: a.dpop,
                nonce: a.dpop_nonce,
                window: a.dpop_iat_window,
            },
            passkeys,
        })
    }
}

impl Config {
    /// Defaults as the binary has them, for tests and embedding: parse an empty command line
    /// without reading the environment.
    pub fn for_tests(database: Database) -> Self {
        let mut args = Args::parse_from(["tokenpair-server"]);
        args.port = 0;
        args.access_token_secret = None;
        args.access_token_previous_secret = None;
        args.allowed_origins = Vec::new();
        args.demo_users = true;
        args.public_url = None;
        // Passkeys off (the derived origin is 127.0.0.1) unless a test names a domain.
        args.webauthn_rp_id = None;
        args.webauthn_origin = None;
        args.trusted_proxies = Vec::new();
        args.client_address_header = AddressHeader::Auto;
        args.ipv6_client_prefix = 64;
        args.database_url = "sqlite://unused.db".into();
        args.access_token_expiry = Duration::from_secs(300);
        args.refresh_token_expiry = Duration::from_secs(7 * 24 * 3600);
        args.refresh_token_idle_timeout = Duration::from_secs(24 * 3600);
        let Ok(mut config) = Config::try_from(args) else {
            unreachable!("the pinned defaults are valid")
        };
        config.database = database;
        // `Args::parse_from` still reads env fallbacks; pin every value a test relies on.
        config.tokens.access_token_expiry = Duration::from_secs(300);
        config.tokens.access_token_leeway = Duration::ZERO;
        config.sessions.refresh_token_expiry = Duration::from_secs(7 * 24 * 3600);
        config.sessions.refresh_token_idle_timeout = Duration::from_secs(24 * 3600);
        config.sessions.refresh_reuse_grace = Duration::from_secs(10);
        config.tokens.issuer = "tokenpair".into();
        config.tokens.audience = "tokenpair-api".into();
        config.static_dir = PathBuf::from("dist");
        config.tokens.signing_key_rotation = Duration::from_secs(30 * 86400);
        config.sessions.refresh_rate_limit = 30;
        config.sessions.max_per_user = 50;
        config.sessions.reauth = Recency {
            max_age: Duration::from_secs(600),
        };
        config.network.header_read_timeout = Duration::from_secs(10);
        config.network.max_connections = 0;
        config.network.shutdown_timeout = Duration::from_secs(10);
        config.security_events = EventPolicy::default();
        config.dpop = DpopPolicy::default();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEK: &str = "a-key-encryption-key-of-at-least-32-bytes";

    /// The flags as given.
    fn bare(extra: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["tokenpair-server"];
        argv.extend_from_slice(extra);
        Config::try_from(Args::try_parse_from(argv).expect("flags parse"))
    }

    /// The flags, with a key-encryption key (Ed25519 mode needs one).
    fn parse(extra: &[&str]) -> Result<Config, ConfigError> {
        let mut argv = vec!["--signing-key-encryption-key", KEK];
        argv.extend_from_slice(extra);
        bare(&argv)
    }

    #[test]
    fn a_secret_shorter_than_32_bytes_is_refused_with_a_clear_message() {
        let err = parse(&["--access-token-secret", "short"]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("ACCESS_TOKEN_SECRET is 5 bytes"), "{msg}");
        assert!(msg.contains("at least 32 bytes"), "{msg}");
        assert!(parse(&["--access-token-secret", &"x".repeat(32)]).is_ok());
    }

    #[test]
    fn durations_use_humantime() {
        let c = parse(&[
            "--access-token-expiry",
            "15m",
            "--refresh-token-expiry",
            "7d",
        ])
        .unwrap();
        assert_eq!(c.tokens.access_token_expiry, Duration::from_secs(900));
        assert_eq!(
            c.sessions.refresh_token_expiry,
            Duration::from_secs(7 * 86400)
        );
        assert!(Args::try_parse_from(["x", "--access-token-expiry", "soon"]).is_err());
    }

    #[test]
    fn ed25519_keys_need_a_key_encryption_key_outside_demo_mode() {
        let refused = bare(&[]).unwrap_err().to_string();
        assert!(refused.contains("SIGNING_KEY_ENCRYPTION_KEY"), "{refused}");
        assert!(bare(&["--demo-users"]).is_ok());
        assert!(bare(&["--access-token-secret", KEK]).is_ok());
        assert!(bare(&["--signing-key-encryption-key", KEK]).is_ok());
        let alone = bare(&["--demo-users", "--signing-key-previous-encryption-key", KEK]);
        assert!(matches!(alone, Err(ConfigError::PreviousKekAlone)));
        let short = bare(&["--signing-key-encryption-key", "short"]).unwrap_err();
        assert!(
            short
                .to_string()
                .contains("SIGNING_KEY_ENCRYPTION_KEY is 5 bytes"),
            "{short}"
        );
    }

    #[test]
    fn demo_accounts_are_opt_in() {
        assert!(!parse(&[]).unwrap().demo_users);
        assert!(parse(&["--demo-users"]).unwrap().demo_users);
        assert!(Args::try_parse_from(["x", "--no-demo-users"]).is_err());
    }

    #[test]
    fn the_passkeys_relying_party_follows_public_url_unless_set_and_a_wrong_one_refuses_to_start() {
        let c = parse(&["--public-url", "http://localhost:8080"]).unwrap();
        assert_eq!(c.passkeys.id, "localhost");
        assert_eq!(c.passkeys.origin, "http://localhost:8080");
        // Unset PUBLIC_URL on a loopback address: http://localhost:PORT, so passkeys work.
        assert_eq!(parse(&[]).unwrap().passkeys.id, "localhost");
        assert!(
            parse(&["--public-url", "http://192.168.1.10:8080"])
                .unwrap()
                .passkeys
                .is_ip(),
            "an IP address: off, but it starts"
        );
        let c = parse(&[
            "--public-url",
            "https://auth.example.com",
            "--webauthn-rp-id",
            "example.com",
        ])
        .unwrap();
        assert_eq!(c.passkeys.id, "example.com");
        let wrong = parse(&[
            "--public-url",
            "https://auth.example.com",
            "--webauthn-rp-id",
            "other.example",
        ]);
        assert!(matches!(wrong, Err(ConfigError::Passkeys(_))));
        let bad = parse(&["--webauthn-origin", "https://auth.example.com/app"]);
        assert!(matches!(bad, Err(ConfigError::Passkeys(_))));
    }

    #[test]
    fn access_tokens_must_be_shorter_lived_than_sessions() {
        let err = parse(&[
            "--access-token-expiry",
            "2d",
            "--refresh-token-expiry",
            "1d",
        ]);
        assert!(matches!(
            err,
            Err(ConfigError::AccessOutlivesRefresh { .. })
        ));
    }
}
