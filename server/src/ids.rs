//! Typed ids: a user id cannot be passed where a timestamp or a count is expected, nor a
//! session id where a key id or a username is. Both are stored as they always were (an
//! integer, a base64url string): `#[sqlx(transparent)]` binds and reads them as such.

use std::fmt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;

/// `n` random bytes from the OS CSPRNG, base64url without padding.
pub fn random_id(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Session ids are 16 random bytes in base64url (22 characters); anything else is not one.
pub fn could_be_session_id(sid: &str) -> bool {
    sid.len() <= 64
        && !sid.is_empty()
        && sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A user's id (`users.id`; the `sub` of their access tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A session's id (`sessions.id`; the `sid` of its access tokens): 16 random bytes in
/// base64url.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct SessionId(String);

impl SessionId {
    /// A new random id.
    pub fn random() -> SessionId {
        SessionId(random_id(16))
    }

    /// `s` if it has the shape of a session id; anything else names no session of ours.
    pub fn parse(s: &str) -> Option<SessionId> {
        could_be_session_id(s).then(|| SessionId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for SessionId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_is_only_what_has_its_shape() {
        assert!(SessionId::parse("AbC-_0123456789abcdefgh").is_some());
        for bad in ["", "a b", "a\0b", &"x".repeat(65)] {
            assert!(SessionId::parse(bad).is_none(), "{bad:?}");
        }
        assert_ne!(SessionId::random(), SessionId::random());
    }
}
