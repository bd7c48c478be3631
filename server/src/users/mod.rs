//! Accounts: registration (also of the demo accounts), lookup, and the credential newtypes
//! ([`credentials`]).
//!
//! Users never change once created, so `/api/me` is answered from an in-memory cache after the
//! first read: the hot path does no database work — on any number of instances.

pub mod credentials;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;

pub use credentials::{CredentialError, Password, Username};

use crate::clock::{Clock, Timestamp};
use crate::db::{Db, DbError};
use crate::ids::UserId;
use crate::passwords::{PasswordError, Passwords};
use crate::security_events::{Client, Event, Kind, SecurityEvents};

pub const DEMO_USERS: [(&str, &str); 2] = [("user1", "password1"), ("user2", "password2")];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub created_at: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("username taken")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

impl From<sqlx::Error> for CreateUserError {
    fn from(e: sqlx::Error) -> Self {
        CreateUserError::Db(e.into())
    }
}

#[derive(Clone)]
pub struct Users {
    db: Db,
    events: SecurityEvents,
    clock: Clock,
    cache: Arc<RwLock<HashMap<UserId, Arc<User>>>>,
    /// `GET /api/me` bodies, by user id.
    me_cache: Arc<RwLock<HashMap<UserId, Bytes>>>,
}

impl Users {
    pub fn new(db: Db, events: SecurityEvents, clock: Clock) -> Self {
        Users {
            db,
            events,
            clock,
            cache: Arc::default(),
            me_cache: Arc::default(),
        }
    }

    /// The user as `GET /api/me` shows it ([`tokenpair_api::Me`]), serialised once.
    pub async fn me_json(&self, id: UserId) -> Result<Option<Bytes>, DbError> {
        if let Some(body) = self.me_cache.read().ok().and_then(|m| m.get(&id).cloned()) {
            return Ok(Some(body));
        }
        let Some(user) = self.by_id(id).await? else {
            return Ok(None);
        };
        let me = tokenpair_api::Me {
            id: user.id.0,
            username: user.username.clone(),
            created_at: user.created_at.rfc3339(),
        };
        let body = Bytes::from(serde_json::to_vec(&me).unwrap_or_default());
        if let Ok(mut m) = self.me_cache.write() {
            m.insert(id, body.clone());
        }
        Ok(Some(body))
    }

    /// Creates an account: checks that the name is free *before* hashing (a taken name costs
    /// no Argon2 run), hashes the password (Argon2id, in `addr`'s turn of the queue) and
    /// inserts the user — which still refuses a name taken in the meantime. Registration and
    /// the demo accounts (`addr` = `None`) both come through here.
    pub async fn register(
        &self,
        passwords: &Passwords,
        limit_key: Option<IpAddr>,
        client: &Client,
        username: &Username,
        password: Password,
    ) -> Result<User, CreateUserError> {
        if self.by_name(username).await?.is_some() {
            return Err(CreateUserError::Taken);
        }
        let hash = passwords.hash(limit_key, password.into_inner()).await?;
        self.create_with_hash(username.as_str(), hash, client).await
    }

    /// Inserts a user whose password is already hashed.
    pub async fn create_with_hash(
        &self,
        username: &str,
        password_hash: String,
        client: &Client,
    ) -> Result<User, CreateUserError> {
        let created_at = self.clock.now();
        let mut tx = self.db.begin().await?;
        let id: Option<UserId> = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, password_hash, created_at)
             VALUES ($1, $4, $2, $3)
             ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(&password_hash)
        .bind(created_at)
        .bind(credentials::name_key(username))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Err(CreateUserError::Taken);
        };
        let event = Event::new(Kind::AccountCreated, created_at, Some(id)).client(client);
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await?;
        recorded.log();
        Ok(User {
            id,
            username: username.to_owned(),
            password_hash,
            created_at,
        })
    }

    /// Creates the demo accounts in an empty database (through [`Users::register`]).
    pub async fn seed_demo_accounts(&self, passwords: &Passwords) -> Result<bool, CreateUserError> {
        if self.count().await? > 0 {
            return Ok(false);
        }
        for (name, password) in DEMO_USERS {
            let (Ok(name), Ok(password)) = (Username::new(name), Password::new(password.into()))
            else {
                unreachable!("the demo credentials follow the rules");
            };
            match self
                .register(passwords, None, &Client::default(), &name, password)
                .await
            {
                // Another instance seeding the same database at the same time.
                Ok(_) | Err(CreateUserError::Taken) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// The demo accounts that still accept their published password (one Argon2 run each).
    pub async fn demo_accounts_usable(
        &self,
        passwords: &Passwords,
    ) -> Result<Vec<&'static str>, CreateUserError> {
        let mut usable = Vec::new();
        for (name, password) in DEMO_USERS {
            let (Ok(username), Ok(password)) =
                (Username::new(name), Password::new(password.into()))
            else {
                unreachable!("the demo credentials follow the rules");
            };
            let Some(user) = self.by_name(&username).await? else {
                continue;
            };
            if passwords
                .verify(None, password.into_inner(), Some(user.password_hash))
                .await?
            {
                usable.push(name);
            }
        }
        Ok(usable)
    }

    pub async fn by_name(&self, username: &Username) -> Result<Option<User>, DbError> {
        if username.as_str().contains('\0') {
            // No account has one (and PostgreSQL refuses text with a NUL byte).
            return Ok(None);
        }
        Ok(sqlx::query_as(
            "SELECT id, username, password_hash, created_at FROM users WHERE username_key = $1",
        )
        .bind(username.key())
        .fetch_optional(&self.db.pool)
        .await?)
    }

    pub async fn by_id(&self, id: UserId) -> Result<Option<Arc<User>>, DbError> {
        if let Some(u) = self.cache.read().ok().and_then(|m| m.get(&id).cloned()) {
            return Ok(Some(u));
        }
        let user: Option<User> = sqlx::query_as(
            "SELECT id, username, password_hash, created_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?;
        let user = user.map(Arc::new);
        if let (Some(u), Ok(mut m)) = (&user, self.cache.write()) {
            m.insert(id, u.clone());
        }
        Ok(user)
    }

    pub async fn count(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.db.pool)
            .await?)
    }
}
