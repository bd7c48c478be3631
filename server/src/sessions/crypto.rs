//! Refresh-token crypto: minting, parsing, hashing, and the sealed successor.
//!
//! ## The token names its session and generation
//! 72 bytes, base64url without padding (96 characters, opaque to the client): the session id
//! (16 bytes), the generation (8 bytes, big-endian), 32 random bytes from the OS CSPRNG (the
//! 256-bit secret) and a MAC over the three, truncated to 128 bits (HMAC-SHA256 under a server
//! secret, [`crate::secrets`]).
//! Only the SHA-256 of the whole token is stored, and only for the session's current token and
//! its immediate predecessor — so a session is one row whatever its rotation count. A token
//! whose MAC checks out *was issued by us*; if it names an older generation of a live session,
//! it is a replay (reuse → the family is revoked) without any row having been kept for it.
//! A forged "old" token fails the MAC and changes nothing.
//!
//! Tokens minted before this format (43 base64url characters, no dots) are still accepted as a
//! session's current or previous token (looked up by hash), and rotate into the new format.
//!
//! ## The grace answer, storing only hashes
//! When token `T(n)` is rotated to `T(n+1)`, the session keeps
//! `secret(n+1) XOR HMAC-SHA256(secret(n), label)`. Only someone who presents `T(n)` itself can
//! unseal it; the database alone (hashes and sealed values) reveals no usable token. So a grace
//! request — on any instance — gets back the very cookie the winner got, and the family stays
//! one straight chain.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secrets::{hmac_sha256, mac128};

pub const SECRET_BYTES: usize = 32;
const MAC_BYTES: usize = 16;
const SEAL_LABEL: &[u8] = b"tokenpair/refresh-grace-seal/v1";
const MAC_LABEL: &[u8] = b"tokenpair/refresh-token/v2";
const SID_BYTES: usize = 16;
const TOKEN_BYTES: usize = SID_BYTES + 8 + SECRET_BYTES + MAC_BYTES;
/// Characters of a token (72 bytes in base64url) and of a previous-format one (32 bytes).
pub const TOKEN_CHARS: usize = 96;
const LEGACY_CHARS: usize = 43;

/// A refresh token handed to the client (only ever in the cookie). Its `Debug` hides it.
pub struct RefreshToken(pub String);

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// What a token says about itself once its MAC has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub sid: String,
    pub generation: i64,
}

/// A presented token that is well-formed: its secret, its hash, and (for the current format,
/// MAC verified) the session and generation it names.
pub struct Presented {
    pub secret: [u8; SECRET_BYTES],
    pub hash: [u8; 32],
    /// `None` for a token of the previous format (it names nothing; look it up by hash).
    pub claim: Option<Claim>,
}

/// Mints, checks and seals refresh tokens under the deployment's MAC key.
#[derive(Clone)]
pub struct TokenMinter {
    mac_key: [u8; 32],
}

impl TokenMinter {
    pub fn new(mac_key: [u8; 32]) -> Self {
        TokenMinter { mac_key }
    }

    /// The token of generation `generation` of session `sid`, with a fresh secret.
    pub fn mint(&self, sid: &str, generation: i64) -> (RefreshToken, [u8; SECRET_BYTES]) {
        let mut secret = [0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        (self.assemble(sid, generation, &secret), secret)
    }

    /// The token for a known secret (the grace answer rebuilds the winner's token this way).
    /// Session ids are base64url of 16 random bytes ([`crate::tokens::random_id`]).
    pub fn assemble(
        &self,
        sid: &str,
        generation: i64,
        secret: &[u8; SECRET_BYTES],
    ) -> RefreshToken {
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        let sid_bytes = URL_SAFE_NO_PAD.decode(sid).unwrap_or_default();
        bytes.extend_from_slice(&sid_bytes);
        bytes.resize(SID_BYTES, 0);
        bytes.extend_from_slice(&generation.to_be_bytes());
        bytes.extend_from_slice(secret);
        let mac = self.mac(&bytes);
        bytes.extend_from_slice(&mac);
        RefreshToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// None for anything that is neither a current-format token with a valid MAC nor a
    /// previous-format token: garbage and forgeries are rejected before the database.
    pub fn parse(&self, token: &str) -> Option<Presented> {
        if token.len() != TOKEN_CHARS && token.len() != LEGACY_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let hash = hash_token(token);
        if bytes.len() == SECRET_BYTES {
            return Some(Presented {
                secret: bytes.try_into().ok()?,
                hash,
                claim: None,
            });
        }
        let (signed, mac) = bytes.split_at(TOKEN_BYTES - MAC_BYTES);
        if !bool::from(self.mac(signed).ct_eq(mac)) {
            return None;
        }
        let (sid, rest) = signed.split_at(SID_BYTES);
        let (generation, secret) = rest.split_at(8);
        let generation = i64::from_be_bytes(generation.try_into().ok()?);
        if generation < 0 {
            return None;
        }
        Some(Presented {
            secret: secret.try_into().ok()?,
            hash,
            claim: Some(Claim {
                sid: URL_SAFE_NO_PAD.encode(sid),
                generation,
            }),
        })
    }

    fn mac(&self, signed: &[u8]) -> [u8; MAC_BYTES] {
        mac128(&self.mac_key, MAC_LABEL, signed)
    }
}

pub use crate::ids::could_be_session_id;

/// SHA-256 of the token as sent: the only form in which a refresh token is stored.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn seal_pad(key: &[u8; SECRET_BYTES]) -> [u8; 32] {
    hmac_sha256(key, SEAL_LABEL, &[])
}

/// `successor` sealed under `key` (the predecessor's secret).
pub fn seal(key: &[u8; SECRET_BYTES], successor: &[u8; SECRET_BYTES]) -> [u8; 32] {
    let pad = seal_pad(key);
    std::array::from_fn(|i| successor[i] ^ pad[i])
}

pub fn unseal(key: &[u8; SECRET_BYTES], sealed: &[u8]) -> Option<[u8; SECRET_BYTES]> {
    let sealed: &[u8; 32] = sealed.try_into().ok()?;
    let pad = seal_pad(key);
    Some(std::array::from_fn(|i| sealed[i] ^ pad[i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

    #[test]
    fn a_token_names_its_session_and_generation_and_parses_back() {
        let m = TokenMinter::new([7; 32]);
        let (t, secret) = m.mint(SID, 41);
        let p = m.parse(&t.0).expect("parses");
        assert_eq!(p.secret, secret);
        assert_eq!(
            p.claim,
            Some(Claim {
                sid: SID.into(),
                generation: 41
            })
        );
        assert_ne!(t.0, m.mint(SID, 41).0 .0);
        assert!(!format!("{t:?}").contains(&t.0));
    }

    #[test]
    fn a_token_is_96_base64url_characters_carrying_a_256_bit_secret() {
        let m = TokenMinter::new([7; 32]);
        let (t, secret) = m.mint(SID, 0);
        assert_eq!(t.0.len(), TOKEN_CHARS);
        assert!(t
            .0
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(secret.len() * 8, 256);
    }

    #[test]
    fn a_token_with_a_changed_generation_or_another_key_is_not_ours() {
        let m = TokenMinter::new([7; 32]);
        let (t, _) = m.mint(SID, 41);
        let mut bytes = URL_SAFE_NO_PAD.decode(&t.0).unwrap();
        bytes[23] = 40;
        assert!(m.parse(&URL_SAFE_NO_PAD.encode(&bytes)).is_none());
        assert!(TokenMinter::new([8; 32]).parse(&t.0).is_none());
    }

    #[test]
    fn garbage_is_not_a_token() {
        let m = TokenMinter::new([7; 32]);
        for bad in [
            "",
            "abc",
            &"!".repeat(43),
            &"a".repeat(44),
            "a.b.c",
            &"A".repeat(96),
            &"a.".repeat(200),
        ] {
            assert!(m.parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_token_of_the_previous_format_is_recognised_by_its_hash_only() {
        let m = TokenMinter::new([7; 32]);
        let old = URL_SAFE_NO_PAD.encode([5u8; 32]);
        let p = m.parse(&old).expect("old format");
        assert!(p.claim.is_none());
        assert_eq!(p.hash, hash_token(&old));
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
