//! Password hashing with Argon2id (the `argon2` crate's defaults: m=19456 KiB, t=2, p=1).
//!
//! Hashing is deliberately slow, so it runs on the blocking pool. Unknown usernames are checked
//! against a dummy hash made at start-up, so "no such user" and "wrong password" take the same
//! time and cannot be told apart.

use std::sync::Arc;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("password task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Clone)]
pub struct Passwords {
    dummy_hash: Arc<str>,
}

impl Passwords {
    /// Makes the dummy hash used for unknown users (one Argon2 run, ~30 ms).
    pub fn new() -> Result<Self, PasswordError> {
        Ok(Passwords { dummy_hash: hash_blocking("tokenpair-dummy-password")?.into() })
    }

    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await?
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no user,
    /// so both cases cost one Argon2 run. Returns true only for a real user's right password.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, PasswordError> {
        let is_real = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.to_string());
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&password, &phc)).await?;
        Ok(is_real && ok)
    }
}

pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters() {
        let phc = hash_blocking("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("correct horse", &phc));
        assert!(!verify_blocking("wrong horse", &phc));
        assert!(!verify_blocking("anything", "not a phc string"));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies_even_with_the_dummy_password() {
        let p = Passwords::new().unwrap();
        assert!(!p.verify("tokenpair-dummy-password".into(), None).await.unwrap());
    }
}
