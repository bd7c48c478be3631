//! The Ed25519 private keys at rest: sealed under a key-encryption key (KEK) from the
//! environment (`SIGNING_KEY_ENCRYPTION_KEY`), so a copy of the database alone — a backup, a
//! leaked dump — cannot mint tokens.
//!
//! A sealed key is `tpk1 ‖ kek id (8) ‖ nonce (24) ‖ XChaCha20-Poly1305(seed) (48)`, with the
//! key's `kid` as associated data (a sealed key moved to another row does not open). The KEK
//! is derived from the setting with HMAC-SHA256; its id is a MAC of it, so the server can tell
//! which of its KEKs sealed a key without trying them all.
//!
//! **Rotating the KEK**: start every instance with the new one in `SIGNING_KEY_ENCRYPTION_KEY`
//! and the old one in `SIGNING_KEY_PREVIOUS_ENCRYPTION_KEY`; each start re-seals every key under
//! the new KEK; once all instances have started so, drop the previous one. A 32-byte seed in
//! the table (no KEK was set, `make run`'s demo mode) is sealed the same way at the first start
//! with a KEK.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use crate::hex::hex;
use crate::secrets::hmac_sha256;

const MAGIC: &[u8; 4] = b"tpk1";
const ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const SEED_LEN: usize = 32;
const SEALED_LEN: usize = MAGIC.len() + ID_LEN + NONCE_LEN + SEED_LEN + 16;

/// One key-encryption key.
#[derive(Clone, Copy)]
pub struct Kek {
    key: [u8; 32],
    id: [u8; ID_LEN],
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek(id {})", hex(&self.id))
    }
}

impl Kek {
    /// From the setting's bytes (at least 32 of them: checked by the configuration).
    pub fn from_secret(secret: &[u8]) -> Kek {
        let key = hmac_sha256(secret, b"tokenpair signing-key encryption v1", b"");
        let full = hmac_sha256(&key, b"tokenpair kek id", b"");
        Kek {
            key,
            id: std::array::from_fn(|i| full[i]),
        }
    }
}

/// How private keys are kept: sealed under `current` (opened with it or `previous`), or —
/// with no KEK — as plain seeds.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeyEncryption {
    pub current: Option<Kek>,
    pub previous: Option<Kek>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyEncryptionError {
    #[error(
        "signing key {0} is encrypted under a key-encryption key this server was not given: \
         set SIGNING_KEY_ENCRYPTION_KEY (or, while rotating it, the old one in \
         SIGNING_KEY_PREVIOUS_ENCRYPTION_KEY)"
    )]
    UnknownKek(String),
    #[error("signing key {0} does not decrypt (wrong SIGNING_KEY_ENCRYPTION_KEY, or the row was altered)")]
    Undecryptable(String),
    #[error("signing key {0} has a private key of the wrong size")]
    Malformed(String),
}

/// What a stored private key turned out to be.
pub struct Opened {
    pub seed: [u8; SEED_LEN],
    /// Not sealed under the current KEK (plain, or under the previous one): re-seal it.
    pub reseal: bool,
}

impl KeyEncryption {
    /// The bytes to store for `seed` of key `kid`.
    pub fn seal(&self, kid: &str, seed: &[u8; SEED_LEN]) -> Vec<u8> {
        let Some(kek) = self.current else {
            return seed.to_vec();
        };
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new(&kek.key.into());
        let Ok(sealed) = cipher.encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: seed,
                aad: kid.as_bytes(),
            },
        ) else {
            unreachable!("encrypting 32 bytes cannot fail")
        };
        let mut out = Vec::with_capacity(SEALED_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&kek.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// The seed of key `kid` from its stored bytes.
    pub fn open(&self, kid: &str, stored: &[u8]) -> Result<Opened, KeyEncryptionError> {
        if stored.len() == SEED_LEN {
            let mut seed = [0u8; SEED_LEN];
            seed.copy_from_slice(stored);
            return Ok(Opened {
                seed,
                reseal: self.current.is_some(),
            });
        }
        if stored.len() != SEALED_LEN || !stored.starts_with(MAGIC) {
            return Err(KeyEncryptionError::Malformed(kid.to_owned()));
        }
        let id = &stored[MAGIC.len()..MAGIC.len() + ID_LEN];
        let nonce: [u8; NONCE_LEN] = stored[MAGIC.len() + ID_LEN..MAGIC.len() + ID_LEN + NONCE_LEN]
            .try_into()
            .map_err(|_| KeyEncryptionError::Malformed(kid.to_owned()))?;
        let sealed = &stored[MAGIC.len() + ID_LEN + NONCE_LEN..];
        let (kek, reseal) = match (self.current, self.previous) {
            // (A previous KEK without a current one is refused by the configuration.)
            (Some(k), _) if k.id == id => (k, false),
            (_, Some(k)) if k.id == id => (k, self.current.is_some()),
            _ => return Err(KeyEncryptionError::UnknownKek(kid.to_owned())),
        };
        let cipher = XChaCha20Poly1305::new(&kek.key.into());
        let seed = cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| KeyEncryptionError::Undecryptable(kid.to_owned()))?;
        let seed: [u8; SEED_LEN] = seed
            .try_into()
            .map_err(|_| KeyEncryptionError::Malformed(kid.to_owned()))?;
        Ok(Opened { seed, reseal })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kek(s: &str) -> Option<Kek> {
        Some(Kek::from_secret(s.as_bytes()))
    }

    #[test]
    fn a_sealed_key_opens_only_with_its_kek_and_only_in_its_row() {
        let seed = [7u8; 32];
        let one = KeyEncryption {
            current: kek("one-one-one-one-one-one-one-one-one"),
            previous: None,
        };
        let sealed = one.seal("kid-a", &seed);
        assert_eq!(sealed.len(), SEALED_LEN);
        assert!(
            !sealed.windows(32).any(|w| w == seed),
            "the seed is not in the clear"
        );
        assert_eq!(one.open("kid-a", &sealed).unwrap().seed, seed);
        assert!(matches!(
            one.open("kid-b", &sealed),
            Err(KeyEncryptionError::Undecryptable(_))
        ));
        let two = KeyEncryption {
            current: kek("two-two-two-two-two-two-two-two-two"),
            previous: None,
        };
        assert!(matches!(
            two.open("kid-a", &sealed),
            Err(KeyEncryptionError::UnknownKek(_))
        ));
        assert!(matches!(
            KeyEncryption::default().open("kid-a", &sealed),
            Err(KeyEncryptionError::UnknownKek(_))
        ));
        // During a KEK rotation the old one still opens it, and asks for a re-seal.
        let rotating = KeyEncryption {
            current: two.current,
            previous: one.current,
        };
        let opened = rotating.open("kid-a", &sealed).unwrap();
        assert!(opened.reseal && opened.seed == seed);
        // A plain seed opens, and is re-sealed once a KEK is set.
        assert!(!KeyEncryption::default().open("k", &seed).unwrap().reseal);
        assert!(one.open("k", &seed).unwrap().reseal);
    }

    #[test]
    fn a_kek_never_shows_in_debug_output() {
        let k = Kek::from_secret(b"super-secret-super-secret-super-secret");
        assert!(!format!("{k:?}").contains("super"));
    }
}
