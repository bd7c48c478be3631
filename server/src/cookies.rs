//! The refresh-token cookie: the only place the refresh token ever leaves the server.
//!
//! `refresh_token=<opaque>; HttpOnly; Secure; SameSite=Strict; Path=/api/auth; Max-Age=<s>`
//! — no `Domain` (host-only), `Path` limited to the auth endpoints so the cookie is never sent
//! with ordinary API calls, and `Max-Age` counting down to the session's absolute expiry.
//! Browsers treat http://127.0.0.1 and http://localhost as secure contexts, so `Secure`
//! cookies work there too.

use cookie::time::Duration;
use cookie::{Cookie, CookieBuilder, SameSite};

use crate::db::now_ms;

pub const REFRESH_COOKIE: &str = "refresh_token";
pub const REFRESH_COOKIE_PATH: &str = tokenpair_api::paths::AUTH_PREFIX;

/// The cookie carrying `token` until `expires_at` (unix ms).
pub fn refresh_cookie(token: String, expires_at: i64) -> Cookie<'static> {
    let remaining = ((expires_at - now_ms()) / 1000).max(0);
    base(token).max_age(Duration::seconds(remaining)).build()
}

/// A cookie that deletes the refresh cookie (same name and Path, Max-Age=0).
pub fn clear_refresh_cookie() -> Cookie<'static> {
    base(String::new()).max_age(Duration::ZERO).build()
}

fn base(value: String) -> CookieBuilder<'static> {
    Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(REFRESH_COOKIE_PATH)
}
