//! Signing keys and the key set a verifier picks from.
//!
//! Two modes ([`crate::tokens`]): HS256 with `ACCESS_TOKEN_SECRET` (and a previous secret), or
//! Ed25519 (`alg` `EdDSA`) with keys kept in the database ([`super::key_store`]). Every key has
//! **one** algorithm, fixed here: a verifier uses the key's algorithm, never the header's.

use std::collections::HashMap;

use crate::hex::hex;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};

/// The fixed 16-byte PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410 §7): what follows
/// it is the 32-byte seed. jsonwebtoken takes Ed25519 signing keys as PKCS#8 DER.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// The algorithm a key is pinned to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    Hs256,
    EdDsa,
}

impl KeyAlg {
    pub fn jwt(self) -> Algorithm {
        match self {
            KeyAlg::Hs256 => Algorithm::HS256,
            KeyAlg::EdDsa => Algorithm::EdDSA,
        }
    }

    /// Whether a token header's `alg` names this key's algorithm. For Ed25519 both `EdDSA`
    /// (RFC 8037) and `Ed25519` (RFC 9864, the fully specified name) do.
    pub fn accepts_header_alg(self, alg: &str) -> bool {
        match self {
            KeyAlg::Hs256 => alg == "HS256",
            KeyAlg::EdDsa => alg == "EdDSA" || alg == "Ed25519",
        }
    }
}

/// An Ed25519 key pair: the 32-byte seed (private) and the 32-byte public key.
#[derive(Clone)]
pub struct Ed25519Pair {
    pub seed: [u8; 32],
    pub public: [u8; 32],
}

impl std::fmt::Debug for Ed25519Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Pair")
            .field("kid", &ed25519_kid(&self.public))
            .finish_non_exhaustive()
    }
}

impl Ed25519Pair {
    /// A new key pair from the OS CSPRNG.
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        Self::from_seed(seed)
    }

    pub fn from_seed(seed: [u8; 32]) -> Self {
        let public = SigningKey::from_bytes(&seed).verifying_key().to_bytes();
        Ed25519Pair { seed, public }
    }

    pub fn encoding_key(&self) -> EncodingKey {
        let mut der = Vec::with_capacity(48);
        der.extend_from_slice(&ED25519_PKCS8_PREFIX);
        der.extend_from_slice(&self.seed);
        EncodingKey::from_ed_der(&der)
    }

    /// The JWK `x` member: the public key, base64url.
    pub fn x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public)
    }
}

/// `ed25519-` and the first 8 bytes of SHA-256 of the public key, in hex.
pub fn ed25519_kid(public: &[u8; 32]) -> String {
    let digest = Sha256::new()
        .chain_update(b"tokenpair-kid:ed25519:")
        .chain_update(public)
        .finalize();
    format!("ed25519-{}", hex(&digest[..8]))
}

/// An HS256 key id that names a secret without revealing it.
pub fn hs256_kid(secret: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"tokenpair-kid:")
        .chain_update(secret)
        .finalize();
    format!("hs256-{}", hex(&digest[..8]))
}

/// A key a token may be verified with.
pub struct VerifyingKey {
    pub alg: KeyAlg,
    pub decoding: DecodingKey,
    /// The Ed25519 public key (for the JWKS); `None` for a shared secret.
    pub public: Option<[u8; 32]>,
}

/// A key that signs from `activates_at` (unix ms) until the next one activates.
pub struct SigningSlot {
    pub kid: String,
    pub alg: KeyAlg,
    pub encoding: EncodingKey,
    pub activates_at: i64,
}

/// Every key a valid token may carry, and the keys that sign, by activation time.
#[derive(Default)]
pub struct KeySet {
    pub verifying: HashMap<String, VerifyingKey>,
    /// Ascending by `activates_at`.
    pub signing: Vec<SigningSlot>,
    /// What the set was built from (kid, activation): equal fingerprints, equal sets.
    pub fingerprint: Vec<(String, i64)>,
}

impl KeySet {
    /// HS256 mode: the current secret signs; a previous one only verifies.
    pub fn hs256(secret: &[u8], previous: Option<&[u8]>) -> Self {
        let mut set = KeySet::default();
        let kid = hs256_kid(secret);
        set.verifying.insert(
            kid.clone(),
            VerifyingKey {
                alg: KeyAlg::Hs256,
                decoding: DecodingKey::from_secret(secret),
                public: None,
            },
        );
        if let Some(prev) = previous {
            set.verifying.insert(
                hs256_kid(prev),
                VerifyingKey {
                    alg: KeyAlg::Hs256,
                    decoding: DecodingKey::from_secret(prev),
                    public: None,
                },
            );
        }
        set.fingerprint.push((kid.clone(), 0));
        set.signing.push(SigningSlot {
            kid,
            alg: KeyAlg::Hs256,
            encoding: EncodingKey::from_secret(secret),
            activates_at: 0,
        });
        set
    }

    /// Ed25519 mode: the pairs with their activation times (any order).
    pub fn ed25519(mut pairs: Vec<(Ed25519Pair, i64)>) -> Self {
        pairs.sort_by_key(|(_, at)| *at);
        let mut set = KeySet::default();
        for (pair, activates_at) in pairs {
            let kid = ed25519_kid(&pair.public);
            set.verifying.insert(
                kid.clone(),
                VerifyingKey {
                    alg: KeyAlg::EdDsa,
                    decoding: DecodingKey::from_ed_der(&pair.public),
                    public: Some(pair.public),
                },
            );
            set.fingerprint.push((kid.clone(), activates_at));
            set.signing.push(SigningSlot {
                kid,
                alg: KeyAlg::EdDsa,
                encoding: pair.encoding_key(),
                activates_at,
            });
        }
        set
    }

    /// The key that signs at `now` (unix ms): the latest activated one.
    pub fn signer_at(&self, now: i64) -> Option<&SigningSlot> {
        self.signing.iter().rev().find(|s| s.activates_at <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ed25519_pair_signs_what_its_public_key_verifies_through_jsonwebtoken() {
        let pair = Ed25519Pair::generate();
        let message = b"header.payload";
        let signature =
            jsonwebtoken::crypto::sign(message, &pair.encoding_key(), Algorithm::EdDSA).unwrap();
        let decoding = DecodingKey::from_ed_components(&pair.x()).unwrap();
        assert!(
            jsonwebtoken::crypto::verify(&signature, message, &decoding, Algorithm::EdDSA).unwrap()
        );
        let other = Ed25519Pair::generate();
        let wrong = DecodingKey::from_ed_components(&other.x()).unwrap();
        assert!(
            !jsonwebtoken::crypto::verify(&signature, message, &wrong, Algorithm::EdDSA).unwrap()
        );
        assert_eq!(Ed25519Pair::from_seed(pair.seed).public, pair.public);
        assert!(!format!("{pair:?}").contains(&URL_SAFE_NO_PAD.encode(pair.seed)));
    }

    #[test]
    fn the_signer_is_the_latest_activated_key_and_a_future_one_waits() {
        let (a, b, c) = (
            Ed25519Pair::generate(),
            Ed25519Pair::generate(),
            Ed25519Pair::generate(),
        );
        let set = KeySet::ed25519(vec![(c.clone(), 300), (a.clone(), 100), (b.clone(), 200)]);
        assert_eq!(set.signer_at(50).map(|s| s.activates_at), None);
        assert_eq!(
            set.signer_at(150).map(|s| s.kid.clone()),
            Some(ed25519_kid(&a.public))
        );
        assert_eq!(
            set.signer_at(250).map(|s| s.kid.clone()),
            Some(ed25519_kid(&b.public))
        );
        assert_eq!(
            set.signer_at(300).map(|s| s.kid.clone()),
            Some(ed25519_kid(&c.public))
        );
        assert_eq!(set.verifying.len(), 3);
    }

    #[test]
    fn a_key_accepts_only_its_own_algorithm_names() {
        assert!(KeyAlg::EdDsa.accepts_header_alg("EdDSA"));
        assert!(KeyAlg::EdDsa.accepts_header_alg("Ed25519"));
        assert!(!KeyAlg::EdDsa.accepts_header_alg("HS256"));
        assert!(!KeyAlg::Hs256.accepts_header_alg("EdDSA"));
        assert!(!KeyAlg::Hs256.accepts_header_alg("none"));
    }
}
