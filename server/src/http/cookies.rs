//! The refresh-token cookie: the only place the refresh token ever leaves the server.
//!
//! `__Secure-refresh_token=<opaque>; HttpOnly; Secure; SameSite=Strict; Path=/api/auth;
//! Max-Age=<s>` — no `Domain` (host-only), `Path` limited to the auth endpoints so the cookie
//! is never sent with ordinary API calls, and `Max-Age` counting down to the session's absolute
//! expiry. The `__Secure-` prefix makes browsers refuse a cookie of that name that was not set
//! `Secure` from a secure origin: a network attacker on plain http cannot plant one. (Only
//! `__Host-` would also forbid `Domain`, but it forces `Path=/`, which would send the token with
//! every request; a second cookie planted by a sibling domain is refused instead: see
//! [`crate::http::extract::RefreshCookie`].) Browsers treat http://127.0.0.1 and http://localhost as
//! secure contexts, so these cookies work there too.
//!
//! **The old name.** Before the prefix the cookie was `refresh_token`. A token issued before
//! this server first used the new name is still accepted from the old one, once: the answer
//! moves the session to the new name and clears the old (`LEGACY_REFRESH_COOKIE`). An old-name
//! cookie with a newer token — which only a planted one can be — counts as no session.

use cookie::time::Duration;
use cookie::{Cookie, CookieBuilder, SameSite};

use crate::db::now_ms;

pub const REFRESH_COOKIE: &str = "__Secure-refresh_token";
/// The name before the `__Secure-` prefix (see the module docs).
pub const LEGACY_REFRESH_COOKIE: &str = "refresh_token";
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

/// A cookie that deletes an old-name refresh cookie.
pub fn clear_legacy_refresh_cookie() -> Cookie<'static> {
    Cookie::build((LEGACY_REFRESH_COOKIE, String::new()))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(REFRESH_COOKIE_PATH)
        .max_age(Duration::ZERO)
        .build()
}

fn base(value: String) -> CookieBuilder<'static> {
    Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .path(REFRESH_COOKIE_PATH)
}
