//! **Where a DPoP proof is checked** (RFC 9449 §4.3): a pure function of the proof, what the
//! request is, and the time. Replay (`jti` seen before) and nonces are the callers' — they
//! need the database and the server secret ([`super`]).
//!
//! The signature is checked by jsonwebtoken with a decoding key made from the header's `jwk`
//! (no hand-written ECDSA); everything a proof must also say is checked here, one error each.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The signature algorithms a proof may use, as `WWW-Authenticate: DPoP algs="…"` says.
pub const ALGS: &str = "ES256 EdDSA";

/// What the proof must match.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The request's method (`htm`).
    pub method: &'a str,
    /// The request's URL as the client may have reached it (`htu`): scheme, host, port and
    /// path, without query or fragment — one per origin the service answers at.
    pub urls: &'a [String],
    /// The access token the request presents, if any (`ath`).
    pub access_token: Option<&'a str>,
    /// The nonce the server requires, if any (`nonce`).
    pub nonce: Option<&'a str>,
    /// Now, unix seconds.
    pub now: i64,
    /// How far `iat` may be from now, either way.
    pub window: Duration,
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key's RFC 7638 SHA-256 thumbprint, base64url: what a session and its tokens are
    /// bound to (`cnf.jkt`).
    pub jkt: String,
    /// The proof's id, for the replay store.
    pub jti: String,
    /// When the client made it, unix seconds.
    pub iat: i64,
}

/// Why a proof was refused. Each is a 400 (token endpoints) or 401 (resources)
/// `invalid_dpop_proof`, except [`ProofError::UseNonce`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("The DPoP proof is not a JWT.")]
    Malformed,
    #[error("The DPoP proof's header must say `typ: dpop+jwt`.")]
    Type,
    #[error(
        "The DPoP proof is signed with an algorithm this server does not accept (ES256, EdDSA)."
    )]
    Algorithm,
    #[error("The DPoP proof's header must carry the public key (`jwk`) it is signed with.")]
    Key,
    #[error("The DPoP proof's `jwk` holds a private key.")]
    PrivateKey,
    #[error("The DPoP proof's signature does not verify with its `jwk`.")]
    Signature,
    #[error("The DPoP proof was made for another method (`htm`).")]
    Method,
    #[error("The DPoP proof was made for another URL (`htu`).")]
    Url,
    #[error("The DPoP proof was made too long ago or in the future (`iat`).")]
    Time,
    #[error("The DPoP proof has no `jti`.")]
    Id,
    #[error("The DPoP proof was made for another access token (`ath`).")]
    TokenHash,
    #[error("The DPoP proof must carry the server's current nonce.")]
    UseNonce,
}

#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    ath: Option<String>,
    nonce: Option<String>,
}

/// Checks `proof` against `expected` (see the module docs).
pub fn verify(proof: &str, expected: &Expected<'_>) -> Result<Verified, ProofError> {
    let raw_header = raw_header(proof)?;
    if raw_header.get("typ").and_then(|t| t.as_str()) != Some("dpop+jwt") {
        return Err(ProofError::Type);
    }
    let header = jsonwebtoken::decode_header(proof).map_err(|_| ProofError::Malformed)?;
    if !matches!(header.alg, Algorithm::ES256 | Algorithm::EdDSA) {
        return Err(ProofError::Algorithm);
    }
    // jsonwebtoken's `Jwk` would drop a private member silently: look at the JSON itself.
    let raw_jwk = raw_header.get("jwk").ok_or(ProofError::Key)?;
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| raw_jwk.get(m).is_some())
    {
        return Err(ProofError::PrivateKey);
    }
    let jwk = header.jwk.as_ref().ok_or(ProofError::Key)?;
    if !key_fits(jwk, header.alg) {
        return Err(ProofError::Key);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| ProofError::Key)?;
    let mut validation = Validation::new(header.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &validation)
        .map_err(|_| ProofError::Signature)?
        .claims;

    if claims.htm.as_deref() != Some(expected.method) {
        return Err(ProofError::Method);
    }
    let htu = claims.htu.as_deref().map(without_query);
    if !htu.is_some_and(|htu| expected.urls.iter().any(|url| url == htu)) {
        return Err(ProofError::Url);
    }
    let iat = claims.iat.ok_or(ProofError::Time)?;
    let window = i64::try_from(expected.window.as_secs()).unwrap_or(i64::MAX);
    if (iat - expected.now).abs() > window {
        return Err(ProofError::Time);
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(ProofError::Id)?;
    if let Some(token) = expected.access_token {
        if claims.ath.as_deref() != Some(token_hash(token).as_str()) {
            return Err(ProofError::TokenHash);
        }
    }
    if let Some(nonce) = expected.nonce {
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(ProofError::UseNonce);
        }
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| ProofError::Key)?;
    Ok(Verified { jkt, jti, iat })
}

/// The `nonce` a proof carries, read without checking anything (the caller checks it against
/// its own nonces after [`verify`] passed).
pub fn nonce_of(proof: &str) -> Option<String> {
    let claims = proof.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(claims).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get("nonce")?.as_str().map(str::to_owned)
}

/// `ath`: base64url(SHA-256(the access token)).
pub fn token_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// The header as JSON, before jsonwebtoken reads it into its types.
fn raw_header(proof: &str) -> Result<serde_json::Value, ProofError> {
    let encoded = proof.split('.').next().ok_or(ProofError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| ProofError::Malformed)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| ProofError::Malformed)?;
    value
        .is_object()
        .then_some(value)
        .ok_or(ProofError::Malformed)
}

/// Whether the key is of the kind `alg` signs with: P-256 for ES256, Ed25519 for EdDSA.
fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => p.curve == EllipticCurve::P256,
        (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    }
}

/// A URL without its query and fragment (`htu` is compared without them, RFC 9449 §4.3).
fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::{json, Value};

    const URL: &str = "https://tokenpair.test/api/me";

    /// The origins the service answers at: its public URL's, and an alias.
    static URLS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| vec![URL.to_owned(), "https://alias.test/api/me".to_owned()]);
    const NOW: i64 = 1_800_000_000;

    struct Signer {
        key: EncodingKey,
        alg: Algorithm,
    }

    fn es256() -> Signer {
        let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
        let der = p256::pkcs8::EncodePrivateKey::to_pkcs8_der(&secret).unwrap();
        Signer {
            key: EncodingKey::from_ec_der(der.as_bytes()),
            alg: Algorithm::ES256,
        }
    }

    fn ed25519() -> Signer {
        // PKCS#8 of an Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes.
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        der.extend_from_slice(&seed);
        Signer {
            key: EncodingKey::from_ed_der(&der),
            alg: Algorithm::EdDSA,
        }
    }

    impl Signer {
        fn jwk(&self) -> Jwk {
            Jwk::from_encoding_key(&self.key, self.alg).unwrap()
        }

        fn sign(&self, header: Header, claims: Value) -> String {
            jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
        }

        fn header(&self) -> Header {
            let mut h = Header::new(self.alg);
            h.typ = Some("dpop+jwt".into());
            h.jwk = Some(self.jwk());
            h
        }

        fn proof(&self, claims: Value) -> String {
            self.sign(self.header(), claims)
        }
    }

    fn claims() -> Value {
        json!({ "jti": "j-1", "htm": "GET", "htu": URL, "iat": NOW })
    }

    fn expected() -> Expected<'static> {
        Expected {
            method: "GET",
            urls: &URLS[..],
            access_token: None,
            nonce: None,
            now: NOW,
            window: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_proof_from_either_algorithm_passes_and_names_its_keys_thumbprint() {
        for signer in [es256(), ed25519()] {
            let verified = verify(&signer.proof(claims()), &expected()).unwrap();
            assert_eq!(
                verified.jkt,
                signer.jwk().thumbprint(ThumbprintHash::SHA256).unwrap()
            );
            assert_eq!(verified.jti, "j-1");
        }
    }

    #[test]
    fn each_check_refuses_a_proof_that_fails_only_it() {
        let s = es256();
        let with = |k: &str, v: Value| {
            let mut c = claims();
            c[k] = v;
            s.proof(c)
        };
        let cases: Vec<(String, Expected<'_>, ProofError)> = vec![
            ("not.a.jwt".into(), expected(), ProofError::Malformed),
            (
                s.sign(
                    Header {
                        typ: Some("JWT".into()),
                        ..s.header()
                    },
                    claims(),
                ),
                expected(),
                ProofError::Type,
            ),
            (with("htm", json!("POST")), expected(), ProofError::Method),
            (
                with("htu", json!("https://evil.test/api/me")),
                expected(),
                ProofError::Url,
            ),
            (with("iat", json!(NOW - 120)), expected(), ProofError::Time),
            (with("iat", json!(NOW + 120)), expected(), ProofError::Time),
            (with("jti", json!("")), expected(), ProofError::Id),
            (
                s.proof(claims()),
                Expected {
                    access_token: Some("the-token"),
                    ..expected()
                },
                ProofError::TokenHash,
            ),
            (
                s.proof(claims()),
                Expected {
                    nonce: Some("n-1"),
                    ..expected()
                },
                ProofError::UseNonce,
            ),
        ];
        for (proof, exp, error) in cases {
            assert_eq!(verify(&proof, &exp), Err(error.clone()), "{error:?}");
        }
    }

    #[test]
    fn a_proof_for_any_origin_the_service_answers_at_passes() {
        let signer = es256();
        let mut c = claims();
        c["htu"] = json!("https://alias.test/api/me");
        assert!(verify(&signer.proof(c), &expected()).is_ok());
    }

    #[test]
    fn a_query_on_htu_is_ignored_and_ath_and_nonce_pass_when_they_match() {
        let s = es256();
        let mut c = claims();
        c["htu"] = json!(format!("{URL}?x=1#f"));
        c["ath"] = json!(token_hash("the-token"));
        c["nonce"] = json!("n-1");
        let exp = Expected {
            access_token: Some("the-token"),
            nonce: Some("n-1"),
            ..expected()
        };
        assert!(verify(&s.proof(c), &exp).is_ok());
    }

    #[test]
    fn a_signature_by_another_key_or_a_key_of_the_wrong_kind_is_refused() {
        let (a, b) = (es256(), es256());
        // Signed by b, claiming a's key.
        let forged = b.sign(a.header(), claims());
        assert_eq!(verify(&forged, &expected()), Err(ProofError::Signature));
        // An Ed25519 key under ES256.
        let ed = ed25519();
        let mut h = a.header();
        h.jwk = Some(ed.jwk());
        assert_eq!(
            verify(&a.sign(h, claims()), &expected()),
            Err(ProofError::Key)
        );
    }

    #[test]
    fn hmac_none_and_a_private_key_in_the_header_are_refused() {
        let s = es256();
        // HS256 with a symmetric key in `jwk`.
        let secret = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let mut h = Header::new(Algorithm::HS256);
        h.typ = Some("dpop+jwt".into());
        h.jwk = Some(Jwk::from_encoding_key(&secret, Algorithm::HS256).unwrap());
        let hs = jsonwebtoken::encode(&h, &claims(), &secret).unwrap();
        assert_eq!(verify(&hs, &expected()), Err(ProofError::Algorithm));
        // alg none: a header and claims with an empty signature.
        let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let none = format!(
            "{}.{}.",
            b64(json!({"typ": "dpop+jwt", "alg": "none", "jwk": s.jwk()})),
            b64(claims())
        );
        assert!(verify(&none, &expected()).is_err());
        // A private `d` beside the public members: refused before anything else.
        let mut jwk = serde_json::to_value(s.jwk()).unwrap();
        jwk["d"] = json!("c2VjcmV0");
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk});
        let proof = format!("{}.{}.sig", b64(header), b64(claims()));
        assert_eq!(verify(&proof, &expected()), Err(ProofError::PrivateKey));
    }
}
