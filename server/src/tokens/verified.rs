//! Access tokens already verified by jsonwebtoken, remembered by their exact bytes (see
//! [`super::AccessTokens::verify`] for why this drops no check).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::AccessClaims;

/// How many verified tokens are remembered (a few MiB at most).
const CAPACITY: usize = 4096;

pub(super) struct Verified {
    /// The exact token string → its verified claims.
    map: RwLock<HashMap<Box<str>, Arc<AccessClaims>>>,
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
        self.map.read().ok()?.get(token).cloned()
    }

    /// jsonwebtoken's rule: expired when `exp < now - leeway`.
    pub(super) fn expired(&self, claims: &AccessClaims, now: u64) -> bool {
        Self::is_expired(claims, now, self.leeway)
    }

    fn is_expired(claims: &AccessClaims, now: u64, leeway: u64) -> bool {
        claims.exp < now.saturating_sub(leeway)
    }

    pub(super) fn remember(&self, token: &str, claims: Arc<AccessClaims>, now: u64) {
        let Ok(mut m) = self.map.write() else {
            return;
        };
        if m.len() >= CAPACITY {
            let leeway = self.leeway;
            m.retain(|_, c| !Self::is_expired(c, now, leeway));
            if m.len() >= CAPACITY {
                m.clear();
            }
        }
        m.insert(token.into(), claims);
    }
}
