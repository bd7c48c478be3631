//! DPoP (RFC 9449) in the browser: the key and the proofs. [`crate::ClientConfig::dpop`] turns
//! it on; the client then proves every token request (see `core.rs`, `Core::dispatch`).
//!
//! The key pair is made by WebCrypto with **`extractable: false`**: Ed25519 (`EdDSA`) where the
//! browser has it — Chromium, Firefox, Safari 17+; the server verifies it several times
//! faster than P-256 (see docs/performance.md) — and ECDSA P-256 (`ES256`) elsewhere. The
//! private key can sign but never be read, not even by this code. The `CryptoKeyPair` object —
//! not key material — is kept in IndexedDB (database `<app id>:dpop`, store `keys`), so every
//! tab of the origin and every reload uses the same key; it is the only thing tokenpair puts
//! in IndexedDB. A proof is a JWT made fresh for one request: `typ: dpop+jwt`, the public
//! `jwk` in the header, `jti`, `htm`, `htu`, `iat`, and `ath`/`nonce` when there are.
//!
//! The browser side is a few lines of JavaScript (`key.js`, through `wasm_bindgen`'s
//! `inline_js`): IndexedDB's event API and WebCrypto's promises cost far less there than
//! through web-sys bindings, and the bundle has a budget.

pub(crate) mod prover;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/dpop/key.js")]
extern "C" {
    #[wasm_bindgen(js_name = dpopProof)]
    fn dpop_proof(
        db: &str,
        fresh: bool,
        htm: &str,
        htu: &str,
        access_token: Option<String>,
        nonce: Option<String>,
        iat: f64,
    ) -> js_sys::Promise;

    #[wasm_bindgen(js_name = dpopForget)]
    fn dpop_forget(db: &str) -> js_sys::Promise;
}

/// What one proof is for.
#[derive(Debug, Clone, Copy)]
pub struct ProofFor<'a> {
    /// `htm`: the request's method.
    pub method: &'a str,
    /// `htu`: the request's URL, without query or fragment.
    pub url: &'a str,
    /// The access token the request presents (`ath` is its SHA-256).
    pub access_token: Option<&'a str>,
    /// The server's newest `DPoP-Nonce`, if it asked for one.
    pub nonce: Option<&'a str>,
    /// `iat`, seconds since the epoch (the client corrects its clock by the server's `Date`).
    pub issued_at: f64,
}

/// A proof, and the thumbprint of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The proof, for the `DPoP` header.
    pub jwt: String,
    /// RFC 7638 SHA-256 thumbprint, base64url (what the server binds to: `cnf.jkt`).
    pub jkt: String,
    /// Whether the key outlives the page (IndexedDB); `false` where IndexedDB is unavailable
    /// and the key lives in this page's memory only.
    pub kept: bool,
}

/// The origin's DPoP key, kept in IndexedDB under `app_id`.
#[derive(Debug, Clone)]
pub struct DpopKey {
    db: String,
}

impl DpopKey {
    /// The key of the app `app_id` (one per origin and app, shared by its tabs).
    pub fn new(app_id: &str) -> DpopKey {
        DpopKey {
            db: [app_id, ":dpop"].concat(),
        }
    }

    /// A proof for `what`. With `fresh` (a sign-in), by a new key that replaces any stored one
    /// (each session its own key; a key planted by a script is never reused); without, by the
    /// stored key, `None` when there is none (a refresh or an API call: a new key could not
    /// prove anything the server bound). A stored key that cannot be read (IndexedDB failing)
    /// is an error, not `None`. `None` too where the page
    /// is not a secure context (plain http other than localhost): WebCrypto is not there, and
    /// the sign-in goes without a proof (a Bearer session).
    pub async fn proof(&self, fresh: bool, what: ProofFor<'_>) -> Result<Option<Proof>, String> {
        let made = JsFuture::from(dpop_proof(
            &self.db,
            fresh,
            what.method,
            what.url,
            what.access_token.map(str::to_owned),
            what.nonce.map(str::to_owned),
            what.issued_at.floor(),
        ))
        .await
        .map_err(|e| {
            [
                "could not make a DPoP proof: ",
                &e.as_string().unwrap_or_default(),
            ]
            .concat()
        })?;
        if made.is_null() || made.is_undefined() {
            return Ok(None);
        }
        let field = |name: &str| js_sys::Reflect::get(&made, &JsValue::from_str(name)).ok();
        let text = |name: &str| {
            field(name)
                .and_then(|v| v.as_string())
                .ok_or_else(|| ["DPoP proof: no ", name].concat())
        };
        Ok(Some(Proof {
            jwt: text("jwt")?,
            jkt: text("jkt")?,
            kept: field("kept").and_then(|v| v.as_bool()).unwrap_or(false),
        }))
    }

    /// Deletes the key (sign-out): the next sign-in makes a new one.
    pub async fn forget(&self) -> Result<(), String> {
        JsFuture::from(dpop_forget(&self.db))
            .await
            .map(|_| ())
            .map_err(|e| {
                [
                    "could not delete the DPoP key: ",
                    &e.as_string().unwrap_or_default(),
                ]
                .concat()
            })
    }
}
