//! Accounts: creation, lookup, username/password rules, and the demo accounts.
//!
//! Users never change once created, so `/api/me` is answered from an in-memory cache after the
//! first read: the hot path does no database work.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use rusqlite::{params, OptionalExtension};

use crate::db::{now_ms, Db, DbError};

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const PASSWORD_MIN: usize = 8;
/// Longer passwords are refused before hashing, so nobody can make Argon2 chew megabytes.
pub const PASSWORD_MAX: usize = 256;

pub const DEMO_USERS: [(&str, &str); 2] = [("user1", "password1"), ("user2", "password2")];

#[derive(Debug, Clone)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("username taken")]
    Taken,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Checks a username for registration; the error is the sentence shown to the user.
pub fn validate_username(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(format!(
            "Username must be {USERNAME_MIN} to {USERNAME_MAX} characters long (it is {len})."
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(
            "Username may contain only letters A-Z, digits, underscore, dot and hyphen.".into(),
        );
    }
    Ok(())
}

/// Checks a new password; the error is the sentence shown to the user.
pub fn validate_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!(
            "Password must be at least {PASSWORD_MIN} characters long."
        ));
    }
    if len > PASSWORD_MAX {
        return Err(format!(
            "Password must be at most {PASSWORD_MAX} characters long."
        ));
    }
    Ok(())
}

#[derive(Clone)]
pub struct Users {
    db: Db,
    cache: Arc<RwLock<HashMap<i64, Arc<User>>>>,
}

impl Users {
    pub fn new(db: Db) -> Self {
        Users {
            db,
            cache: Arc::default(),
        }
    }

    pub async fn by_name(&self, username: &str) -> Result<Option<User>, DbError> {
        let username = username.to_owned();
        self.db
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT id, username, password_hash, created_at FROM users WHERE username = ?1",
                    params![username],
                    row_to_user,
                )
                .optional()?)
            })
            .await
    }

    pub async fn by_id(&self, id: i64) -> Result<Option<Arc<User>>, DbError> {
        if let Some(u) = self.cache.read().ok().and_then(|m| m.get(&id).cloned()) {
            return Ok(Some(u));
        }
        let user = self
            .db
            .call(move |c| {
                Ok(c.query_row(
                    "SELECT id, username, password_hash, created_at FROM users WHERE id = ?1",
                    params![id],
                    row_to_user,
                )
                .optional()?)
            })
            .await?
            .map(Arc::new);
        if let (Some(u), Ok(mut m)) = (&user, self.cache.write()) {
            m.insert(id, u.clone());
        }
        Ok(user)
    }

    /// Inserts a user whose password is already hashed.
    pub async fn create(
        &self,
        username: &str,
        password_hash: String,
    ) -> Result<User, CreateUserError> {
        let username = username.to_owned();
        let created_at = now_ms();
        let result = self
            .db
            .call(move |c| {
                let inserted = c.execute(
                    "INSERT INTO users (username, password_hash, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(username) DO NOTHING",
                    params![username, password_hash, created_at],
                )?;
                if inserted == 0 {
                    return Ok(None);
                }
                Ok(Some(User {
                    id: c.last_insert_rowid(),
                    username,
                    password_hash,
                    created_at,
                }))
            })
            .await?;
        result.ok_or(CreateUserError::Taken)
    }

    pub fn count_blocking(&self) -> Result<i64, DbError> {
        self.db
            .call_blocking(|c| Ok(c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))?))
    }
}

fn row_to_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        password_hash: r.get(2)?,
        created_at: r.get(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_documented_rules() {
        for ok in ["abc", "user_1", "a.b-c", &"x".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", &"x".repeat(33), "has space", "ünï", "semi;colon", ""] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_eight_characters_and_have_a_ceiling() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"p".repeat(PASSWORD_MAX + 1)).is_err());
    }
}
