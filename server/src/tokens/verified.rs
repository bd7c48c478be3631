//! Access tokens already verified by jsonwebtoken, remembered by their exact bytes (see
//! [`super::AccessTokens::verify`] for why this drops no check).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::AccessClaims;

/// How many verified tokens are remembered (a few MiB at most).
const CAPACITY: usize = 4096;

/// A remembered token: the whole token and its verified claims.
type Entry = (Box<str>, Arc<AccessClaims>);

pub(super) struct Verified {
    /// The token's signature (its last segment: short, so cheap to hash) → the whole token
    /// and its verified claims. A hit needs the whole token to be equal.
    map: RwLock<HashMap<Box<str>, Entry>>,
    /// The `exp` leeway, in seconds.
    leeway: u64,
}

impl Verified {
    pub(super) fn new(leeway: u64) -> Self {
        Verified {
            map: RwLock::default(),
            leeway,
        }
    }

    pub(super) fn get(&self, token: &str) -> Option<Arc<AccessClaims>> {
        let map = self.map.read().ok()?;
        let (known, claims) = map.get(signature(token))?;
        (**known == *token).then(|| claims.clone())
    }

    /// jsonwebtoken's rule: expired when `exp < now - leeway`.
    pub(super) fn expired(&self, claims: &AccessClaims, now: u64) -> bool {
        Self::is_expired(claims, now, self.leeway)
    }

    fn is_expired(claims: &AccessClaims, now: u64, leeway: u64) -> bool {
        claims.exp < now.saturating_sub(leeway)
    }

    /// Forgets everything (the keys changed).
    pub(super) fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }

    pub(super) fn remember(&self, token: &str, claims: Arc<AccessClaims>, now: u64) {
        let Ok(mut m) = self.map.write() else {
            return;
        };
        if m.len() >= CAPACITY {
            let leeway = self.leeway;
            m.retain(|_, (_, c)| !Self::is_expired(c, now, leeway));
            if m.len() >= CAPACITY {
                m.clear();
            }
        }
        m.insert(signature(token).into(), (token.into(), claims));
    }
}

/// The last `.`-separated segment of a JWT (the whole string if it has none).
fn signature(token: &str) -> &str {
    token.rsplit('.').next().unwrap_or(token)
}
