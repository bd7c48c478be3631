//! Refresh-token crypto: minting, decoding, hashing, and the sealed successor.
//!
//! A refresh token is 32 bytes from the OS CSPRNG, base64url without padding (43 characters).
//! Only its SHA-256 is ever stored.
//!
//! ## The grace answer, storing only hashes
//! When token `T(n)` is rotated to `T(n+1)`, the row of `T(n)` keeps
//! `T(n+1) XOR HMAC-SHA256(T(n), label)`. Only someone who presents `T(n)` itself can unseal
//! it; the database alone (hashes and sealed values) reveals no usable token. So a grace
//! request — on any instance — gets back the very cookie the winner got, and the family stays
//! one straight chain.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const TOKEN_BYTES: usize = 32;
const SEAL_LABEL: &[u8] = b"tokenpair/refresh-grace-seal/v1";

/// A refresh token handed to the client (only ever in the cookie). Its `Debug` hides it.
pub struct RefreshToken(pub String);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// A presented token that is well-formed: its raw bytes and its hash.
pub struct Presented {
    pub raw: [u8; TOKEN_BYTES],
    pub hash: [u8; 32],
}

impl Presented {
    /// None for anything that is not 43 base64url characters decoding to 32 bytes: garbage is
    /// rejected before it reaches the database.
    pub fn parse(token: &str) -> Option<Presented> {
        if token.len() != 43 {
            return None;
        }
        let raw: [u8; TOKEN_BYTES] = URL_SAFE_NO_PAD.decode(token).ok()?.try_into().ok()?;
        Some(Presented {
            raw,
            hash: hash_token(token),
        })
    }
}

/// A new token and its 32 raw bytes.
pub fn new_token() -> (RefreshToken, [u8; TOKEN_BYTES]) {
    let mut raw = [0u8; TOKEN_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    (RefreshToken(URL_SAFE_NO_PAD.encode(raw)), raw)
}

pub fn encode(raw: &[u8; TOKEN_BYTES]) -> RefreshToken {
    RefreshToken(URL_SAFE_NO_PAD.encode(raw))
}

/// SHA-256 of the token as sent: the only form in which a refresh token is stored.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn seal_pad(key: &[u8; TOKEN_BYTES]) -> [u8; 32] {
    // HMAC-SHA256 accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(SEAL_LABEL);
    mac.finalize().into_bytes().into()
}

/// `successor` sealed under `key` (the predecessor's raw bytes).
pub fn seal(key: &[u8; TOKEN_BYTES], successor: &[u8; TOKEN_BYTES]) -> [u8; 32] {
    let pad = seal_pad(key);
    std::array::from_fn(|i| successor[i] ^ pad[i])
}

pub fn unseal(key: &[u8; TOKEN_BYTES], sealed: &[u8]) -> Option<[u8; TOKEN_BYTES]> {
    let sealed: &[u8; 32] = sealed.try_into().ok()?;
    let pad = seal_pad(key);
    Some(std::array::from_fn(|i| sealed[i] ^ pad[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_are_256_bit_base64url() {
        let (t, raw) = new_token();
        assert_eq!(t.0.len(), 43);
        assert_eq!(Presented::parse(&t.0).map(|p| p.raw), Some(raw));
        assert_ne!(t.0, new_token().0 .0);
        assert!(!format!("{t:?}").contains(&t.0));
    }

    #[test]
    fn garbage_is_not_a_token() {
        for bad in ["", "abc", &"!".repeat(43), &"a".repeat(44), "a.b.c"] {
            assert!(Presented::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn only_the_predecessor_unseals_its_successor() {
        let (a, b, other) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let sealed = seal(&a, &b);
        assert_ne!(sealed, b, "the sealed value is not the token");
        assert_eq!(unseal(&a, &sealed), Some(b));
        assert_ne!(unseal(&other, &sealed), Some(b));
    }
}
