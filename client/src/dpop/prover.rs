//! The tab's DPoP state beside the key: the newest server nonce, the token server's clock
//! offset (proofs carry the server's time, not a wrong local clock), and whether the last proof
//! due found no key. (One nonce slot: with two servers that both hand out nonces, alternating
//! between them costs a `use_dpop_nonce` round trip each time — correct, not optimal.)

use std::cell::{Cell, RefCell};

use super::{DpopKey, Proof, ProofFor};
use crate::http::Response;

/// The `Date` of an answer is believed only this far from the local clock (a clock that is
/// more wrong than a day is a broken one, not a skewed one).
const MAX_OFFSET_MS: f64 = 24.0 * 3600.0 * 1000.0;

/// One per client (tab), when [`crate::ClientConfig::dpop`] is on.
#[derive(Debug)]
pub(crate) struct Prover {
    key: DpopKey,
    /// The newest `DPoP-Nonce` a server gave.
    nonce: RefCell<Option<String>>,
    /// Server time minus local time, from the token endpoints' last `Date`.
    clock_offset_ms: Cell<f64>,
    /// A proof was due and there was no key to make it (lost, or never kept).
    missing_key: Cell<bool>,
}

impl Prover {
    pub(crate) fn new(app_id: &str) -> Prover {
        Prover {
            key: DpopKey::new(app_id),
            nonce: RefCell::new(None),
            clock_offset_ms: Cell::new(0.0),
            missing_key: Cell::new(false),
        }
    }

    /// A proof for `method url` presenting `access_token` (see [`DpopKey::proof`]), with the
    /// newest nonce.
    pub(crate) async fn prove(
        &self,
        fresh: bool,
        (method, url): (&str, &str),
        access_token: Option<&str>,
    ) -> Result<Option<Proof>, String> {
        let nonce = self.nonce.borrow().clone();
        let what = ProofFor {
            method,
            url,
            access_token,
            nonce: nonce.as_deref(),
            issued_at: (js_sys::Date::now() + self.clock_offset_ms.get()) / 1000.0,
        };
        let proof = self.key.proof(fresh, what).await?;
        self.missing_key.set(proof.is_none());
        Ok(proof)
    }

    /// Learns from an answer: its `DPoP-Nonce` (used from now on) and — from a token endpoint
    /// (`clock`), never from a cached answer — its `Date`. Returns whether the answer asks for a proof with that nonce
    /// (`use_dpop_nonce`: 400 at the token endpoints, 401 at resources).
    pub(crate) fn learn(&self, response: &Response, clock: bool) -> bool {
        if clock && response.header("age").is_none() {
            if let Some(date) = response.header("date") {
                let offset = js_sys::Date::parse(date) - js_sys::Date::now();
                if offset.abs() < MAX_OFFSET_MS {
                    self.clock_offset_ms.set(offset);
                }
            }
        }
        let Some(nonce) = response.header("dpop-nonce").filter(|n| !n.is_empty()) else {
            return false;
        };
        *self.nonce.borrow_mut() = Some(nonce.to_owned());
        // In `WWW-Authenticate` (resources) or the JSON error (token endpoints).
        const CODE: &[u8] = b"use_dpop_nonce";
        matches!(response.status, 400 | 401)
            && (response
                .header("www-authenticate")
                .is_some_and(|h| h.contains("use_dpop_nonce"))
                || response.body.windows(CODE.len()).any(|w| w == CODE))
    }

    /// Whether the last proof due found no key.
    pub(crate) fn missing_key(&self) -> bool {
        self.missing_key.get()
    }

    /// Deletes the key and forgets the nonces (sign-out).
    pub(crate) async fn forget(&self) -> Result<(), String> {
        self.nonce.borrow_mut().take();
        self.key.forget().await
    }
}
