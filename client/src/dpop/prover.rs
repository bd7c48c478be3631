//! The tab's DPoP state beside the key: the server's newest nonce, the server clock's offset
//! (proofs carry the server's time, not a wrong local clock), and whether the last proof due
//! found no key.

use std::cell::{Cell, RefCell};

use super::{DpopKey, Proof, ProofFor};
use crate::http::Response;

/// One per client (tab), when [`crate::ClientConfig::dpop`] is on.
#[derive(Debug)]
pub(crate) struct Prover {
    key: DpopKey,
    nonce: RefCell<Option<String>>,
    /// Server time minus local time, from the last answer's `Date` header.
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

    /// A proof for `method url` presenting `access_token` (see [`DpopKey::proof`]).
    pub(crate) async fn prove(
        &self,
        create: bool,
        method: &str,
        url: &str,
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
        let proof = self.key.proof(create, what).await?;
        self.missing_key.set(proof.is_none());
        Ok(proof)
    }

    /// Learns from an answer: its `DPoP-Nonce` (the newest one is used from now on) and its
    /// `Date`. Returns whether the answer asks for a proof with that nonce (`use_dpop_nonce`:
    /// 400 at the token endpoints, 401 at resources).
    pub(crate) fn learn(&self, response: &Response) -> bool {
        if let Some(date) = response.header("date") {
            let server = js_sys::Date::parse(date);
            if server.is_finite() {
                self.clock_offset_ms.set(server - js_sys::Date::now());
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

    /// Deletes the key and forgets the nonce (sign-out).
    pub(crate) async fn forget(&self) -> Result<(), String> {
        self.nonce.borrow_mut().take();
        self.key.forget().await
    }
}
