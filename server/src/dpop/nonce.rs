//! Server nonces (`DPOP_NONCE=on`, RFC 9449 §8): a nonce names a time window and carries a MAC
//! of it under a deployment-wide secret ([`crate::secrets`]), so every instance makes the same
//! nonce for a window and accepts the current and the previous one — no shared state, and a
//! nonce stops working two windows after it was handed out.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

use crate::clock::Timestamp;
use crate::secrets::hmac_sha256;

const LABEL: &[u8] = b"tokenpair dpop nonce";

/// Makes and checks nonces for windows of `every`.
#[derive(Clone)]
pub struct Nonces {
    key: [u8; 32],
    every: Duration,
}

impl Nonces {
    pub fn new(key: [u8; 32], every: Duration) -> Nonces {
        Nonces {
            key,
            every: every.max(Duration::from_secs(1)),
        }
    }

    fn window(&self, at: Timestamp) -> i64 {
        at.ms() / i64::try_from(self.every.as_millis()).unwrap_or(i64::MAX)
    }

    fn for_window(&self, window: i64) -> String {
        let mac = hmac_sha256(&self.key, LABEL, &window.to_be_bytes());
        format!("{window}.{}", URL_SAFE_NO_PAD.encode(&mac[..16]))
    }

    /// The nonce to hand out now (`DPoP-Nonce`).
    pub fn current(&self, now: Timestamp) -> String {
        self.for_window(self.window(now))
    }

    /// Whether `nonce` is the current window's or the previous one's.
    pub fn accepts(&self, nonce: &str, now: Timestamp) -> bool {
        let window = self.window(now);
        [window, window - 1]
            .iter()
            .any(|w| self.for_window(*w) == nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_works_for_its_window_and_the_next_then_stops() {
        let nonces = Nonces::new([7; 32], Duration::from_secs(60));
        let t0 = Timestamp(1_800_000_000_000);
        let n = nonces.current(t0);
        assert!(nonces.accepts(&n, t0));
        assert!(nonces.accepts(&n, t0.after(Duration::from_secs(60))));
        assert!(!nonces.accepts(&n, t0.after(Duration::from_secs(120))));
        assert!(!nonces.accepts("1.forged", t0));
        let other = Nonces::new([8; 32], Duration::from_secs(60));
        assert!(!other.accepts(&n, t0), "another deployment's secret");
    }
}
