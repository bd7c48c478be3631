//! DPoP (RFC 9449) in the browser — work in progress (issue 24): the key and the proofs.
//!
//! The key pair is made by WebCrypto with **`extractable: false`** (ECDSA P-256, ES256): the
//! private key can sign but never be read, not even by this code. The `CryptoKeyPair` object —
//! not key material — is kept in IndexedDB (database `<app id>:dpop`, store `keys`), so every
//! tab of the origin and every reload uses the same key; it is the only thing tokenpair puts
//! in IndexedDB. A proof is a JWT made fresh for one request: `typ: dpop+jwt`, the public
//! `jwk` in the header, `jti`, `htm`, `htu`, `iat`, and `ath`/`nonce` when there are.
//!
//! The browser side is a few lines of JavaScript (`key.js`, through `wasm_bindgen`'s
//! `inline_js`): IndexedDB's event API and WebCrypto's promises cost far less there than
//! through web-sys bindings, and the bundle has a budget.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/dpop/key.js")]
extern "C" {
    #[wasm_bindgen(js_name = dpopProof)]
    fn dpop_proof(
        db: &str,
        htm: &str,
        htu: &str,
        access_token: Option<String>,
        nonce: Option<String>,
    ) -> js_sys::Promise;

    #[wasm_bindgen(js_name = dpopForget)]
    fn dpop_forget(db: &str) -> js_sys::Promise;
}

/// A proof, and the thumbprint of the key that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The proof, for the `DPoP` header.
    pub jwt: String,
    /// RFC 7638 SHA-256 thumbprint, base64url (what the server binds to: `cnf.jkt`).
    pub jkt: String,
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

    /// A proof for `method url` (presenting `access_token`, carrying `nonce`), made with the
    /// stored key — created first if there is none.
    pub async fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<Proof, String> {
        let made = JsFuture::from(dpop_proof(
            &self.db,
            method,
            url,
            access_token.map(str::to_owned),
            nonce.map(str::to_owned),
        ))
        .await
        .map_err(|e| format!("DPoP proof: {e:?}"))?;
        let field = |name: &str| {
            js_sys::Reflect::get(&made, &JsValue::from_str(name))
                .ok()
                .and_then(|v| v.as_string())
                .ok_or_else(|| format!("DPoP proof: no {name}"))
        };
        Ok(Proof {
            jwt: field("jwt")?,
            jkt: field("jkt")?,
        })
    }

    /// Deletes the key (sign-out): the next sign-in makes a new one.
    pub async fn forget(&self) -> Result<(), String> {
        JsFuture::from(dpop_forget(&self.db))
            .await
            .map(|_| ())
            .map_err(|e| format!("DPoP key: {e:?}"))
    }
}
