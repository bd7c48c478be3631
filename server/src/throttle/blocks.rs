//! The blocks this instance has seen, so a flood against a blocked key is refused from memory
//! — no database round trip — and the refusals it answered, which are added to the key's
//! count in the database at its next attempt there (refusals count toward the ceiling).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::rules::Key;

/// key → (block end in unix ms, refusals not yet counted in the database). Bounded: ended
/// entries are dropped when it grows, and it is emptied if that is not enough (losing some
/// uncounted refusals, never a block the database knows).
#[derive(Default)]
pub struct Blocks(Mutex<HashMap<String, (i64, i64)>>);

const MAX_REMEMBERED_BLOCKS: usize = 10_000;

impl Blocks {
    /// If a remembered block among `keys` is still running: its latest end, and each running
    /// block's key gets one more refusal to count later.
    pub fn refuse(&self, keys: &[Key], now: i64) -> Option<i64> {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut until = None;
        for key in keys {
            if let Some((end, refused)) = map.get_mut(&key.name) {
                if *end > now {
                    *refused += 1;
                    until = until.max(Some(*end));
                }
            }
        }
        until
    }

    pub fn remember(&self, key: &str, until: i64, now: i64) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_REMEMBERED_BLOCKS {
            map.retain(|_, (end, refused)| *end > now || *refused > 0);
            if map.len() >= MAX_REMEMBERED_BLOCKS {
                map.clear();
            }
        }
        let entry = map.entry(key.to_owned()).or_insert((0, 0));
        entry.0 = until;
    }

    /// The refusals of `key` not yet counted in the database, taken (the caller counts them).
    pub fn take_refusals(&self, key: &str) -> i64 {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match map.get_mut(key) {
            Some((_, refused)) => std::mem::take(refused),
            None => 0,
        }
    }

    /// Puts refusals taken by [`Blocks::take_refusals`] back (their attempt was not counted).
    pub fn give_back_refusals(&self, key: &str, n: i64) {
        if n == 0 {
            return;
        }
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(key.to_owned()).or_insert((0, 0)).1 += n;
    }

    /// Forgets the block of `key` (a success may have lifted it); its uncounted refusals stay.
    pub fn forget(&self, key: &str) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = map.get_mut(key) {
            entry.0 = 0;
        }
    }
}
