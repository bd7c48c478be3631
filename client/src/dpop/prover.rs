//! The tab's DPoP state beside the key: each server's newest nonce (RFC 9449 nonces belong to
//! the server that gave them), the token server's clock offset (proofs carry the server's time,
//! not a wrong local clock), and whether the last proof due found no key.

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
    /// (origin, the newest `DPoP-Nonce` it gave).
    nonces: RefCell<Vec<(String, String)>>,
    /// Server time minus local time, from the token endpoints' last `Date`.
    clock_offset_ms: Cell<f64>,
    /// A proof was due and there was no key to make it (lost, or never kept).
    missing_key: Cell<bool>,
}

/// `https://host:port` of an absolute URL.
fn origin_of(url: &str) -> &str {
    let start = url.find("://").map_or(0, |i| i + 3);
    url[start..]
        .find('/')
        .map_or(url, |end| &url[..start + end])
}

impl Prover {
    pub(crate) fn new(app_id: &str) -> Prover {
        Prover {
            key: DpopKey::new(app_id),
            nonces: RefCell::new(Vec::new()),
            clock_offset_ms: Cell::new(0.0),
            missing_key: Cell::new(false),
        }
    }

    /// A proof for `method url` presenting `access_token` (see [`DpopKey::proof`]), with the
    /// nonce `url`'s server gave last.
    pub(crate) async fn prove(
        &self,
        fresh: bool,
        method: &str,
        url: &str,
        access_token: Option<&str>,
    ) -> Result<Option<Proof>, String> {
        let origin = origin_of(url);
        let nonce = self
            .nonces
            .borrow()
            .iter()
            .find(|(o, _)| o == origin)
            .map(|(_, n)| n.clone());
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

    /// Learns from the answer to a request to `url`: its `DPoP-Nonce` (that server's newest,
    /// used from now on) and — from a token endpoint (`clock`), never from a cached answer —
    /// its `Date`. Returns whether the answer asks for a proof with that nonce
    /// (`use_dpop_nonce`: 400 at the token endpoints, 401 at resources).
    pub(crate) fn learn(&self, url: &str, response: &Response, clock: bool) -> bool {
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
        let origin = origin_of(url);
        let mut nonces = self.nonces.borrow_mut();
        match nonces.iter_mut().find(|(o, _)| o == origin) {
            Some((_, known)) => nonce.clone_into(known),
            None => nonces.push((origin.to_owned(), nonce.to_owned())),
        }
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
        self.nonces.borrow_mut().clear();
        self.key.forget().await
    }
}
