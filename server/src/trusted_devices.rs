//! Device cookies (OWASP's "device cookie" pattern against distributed guessing): after a
//! successful sign-in the browser gets a signed, HttpOnly cookie naming the account. A later
//! sign-in to that account that presents it is a *known device*: it is throttled only by its
//! own failures ([`crate::throttle`]), so strangers who block the account for everybody else
//! cannot lock the owner out of the devices they already use.
//!
//! `device=<user id>.<issued, unix s>.<nonce>.<mac>; HttpOnly; Secure; SameSite=Strict;
//! Path=/api/auth/login; Max-Age=<180 days>` — the MAC is HMAC-SHA256 (128 bits) under a
//! deployment-wide key ([`crate::secrets`]), so every instance accepts every instance's cookies.
//! The cookie proves "this browser signed in to this account before", nothing more: it is no
//! credential, and a stolen one only buys its own five tries.

use crate::ids::UserId;
use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use cookie::{Cookie, SameSite};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::db::now_ms;
use crate::secrets::mac128;

pub const DEVICE_COOKIE: &str = "device";
/// Sent only with sign-in requests.
pub const DEVICE_COOKIE_PATH: &str = tokenpair_api::paths::LOGIN;
pub const DEVICE_COOKIE_LIFETIME: Duration = Duration::from_secs(180 * 24 * 3600);
const LABEL: &[u8] = b"tokenpair/device-cookie/v1";

#[derive(Clone)]
pub struct TrustedDevices {
    key: [u8; 32],
}

impl TrustedDevices {
    pub fn new(key: [u8; 32]) -> Self {
        TrustedDevices { key }
    }

    /// A fresh device cookie for `user_id`.
    pub fn issue(&self, user_id: UserId) -> Cookie<'static> {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let body = format!(
            "{user_id}.{}.{}",
            now_ms() / 1000,
            URL_SAFE_NO_PAD.encode(nonce)
        );
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&body));
        Cookie::build((DEVICE_COOKIE, format!("{body}.{mac}")))
            .http_only(true)
            .secure(true)
            .same_site(SameSite::Strict)
            .path(DEVICE_COOKIE_PATH)
            .max_age(cookie::time::Duration::seconds(
                DEVICE_COOKIE_LIFETIME.as_secs() as i64,
            ))
            .build()
    }

    /// The nonce of a genuine, unexpired device cookie issued for `user_id`; `None` otherwise.
    pub fn verify<'v>(&self, value: &'v str, user_id: UserId) -> Option<&'v str> {
        if value.len() > 128 {
            return None;
        }
        let (body, mac) = value.rsplit_once('.')?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        if !bool::from(self.mac(body).as_slice().ct_eq(&mac)) {
            return None;
        }
        let mut parts = body.splitn(3, '.');
        let (uid, issued, nonce) = (parts.next()?, parts.next()?, parts.next()?);
        let issued: i64 = issued.parse().ok()?;
        let age = now_ms() / 1000 - issued;
        (uid.parse::<i64>().ok()? == user_id.0
            && (0..DEVICE_COOKIE_LIFETIME.as_secs() as i64).contains(&age))
        .then_some(nonce)
    }

    fn mac(&self, body: &str) -> [u8; 16] {
        mac128(&self.key, LABEL, body.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_cookie_is_trusted_for_its_own_account_only() {
        let devices = TrustedDevices::new([3; 32]);
        let cookie = devices.issue(UserId(7));
        assert!(cookie.http_only().unwrap_or(false));
        assert_eq!(cookie.path(), Some(DEVICE_COOKIE_PATH));
        assert!(devices.verify(cookie.value(), UserId(7)).is_some());
        assert!(devices.verify(cookie.value(), UserId(8)).is_none());
        assert!(TrustedDevices::new([4; 32])
            .verify(cookie.value(), UserId(7))
            .is_none());
    }

    #[test]
    fn a_tampered_or_malformed_device_cookie_is_not_trusted() {
        let devices = TrustedDevices::new([3; 32]);
        let value = devices.issue(UserId(7)).value().to_owned();
        let tampered = value.replacen('7', "8", 1);
        for bad in [tampered.as_str(), "", "x", "7.1.n.", &"a".repeat(300)] {
            assert!(devices.verify(bad, UserId(7)).is_none(), "{bad}");
            assert!(devices.verify(bad, UserId(8)).is_none(), "{bad}");
        }
    }
}
