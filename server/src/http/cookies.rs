//! The refresh-token cookie: the only place the refresh token ever leaves the server.
//!
//! `__Secure-refresh_token=<opaque>; HttpOnly; Secure; SameSite=Strict; Path=/api/auth;
//! Max-Age=<s>` — no `Domain` (host-only), `Path` limited to the auth endpoints so the cookie
//! is never sent with ordinary API calls, and `Max-Age` counting down to the session's absolute
//! expiry. The `__Secure-` prefix makes browsers refuse a cookie of that name that was not set
//! `Secure` from a secure origin: a network attacker on plain http cannot plant one. (Only
//! `__Host-` would also forbid `Domain`, but it forces `Path=/`, which would send the token with
//! every request; a second cookie planted by a sibling domain is refused instead: see
//! [`RefreshCookie`].) Browsers treat http://127.0.0.1 and http://localhost as
//! secure contexts, so these cookies work there too.
//!
//! **The old name.** Before the prefix the cookie was `refresh_token`. A token issued before
//! this server first used the new name is still accepted from the old one, once: the answer
//! moves the session to the new name and clears the old (`LEGACY_REFRESH_COOKIE`). An old-name
//! cookie with a newer token — which only a planted one can be — counts as no session.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts, HeaderMap};
use axum_extra::extract::CookieJar;
use cookie::time::Duration;
use cookie::{Cookie, CookieBuilder, SameSite};

use crate::http::error::ApiError;
use crate::state::AppState;

pub const REFRESH_COOKIE: &str = "__Secure-refresh_token";
/// The name before the `__Secure-` prefix (see the module docs).
pub const LEGACY_REFRESH_COOKIE: &str = "refresh_token";
pub const REFRESH_COOKIE_PATH: &str = tokenpair_api::paths::AUTH_PREFIX;

/// The cookie carrying `token` for `max_age` (whole seconds, rounded down).
pub fn refresh_cookie(token: String, max_age: std::time::Duration) -> Cookie<'static> {
    let seconds = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    base(token).max_age(Duration::seconds(seconds)).build()
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

/// The refresh cookies a request carries — counted in the raw `Cookie` headers, because a
/// cookie jar keeps only one value per name and which one wins is arbitrary. Two can arrive
/// when a sibling domain planted its own (`Domain=.example.com`); guessing which is ours could
/// act on the attacker's session, so the caller refuses instead.
///
/// The headers are read as bytes: one cookie with a non-ASCII value (another site's, say) must
/// not hide the refresh cookie beside it.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshCookie {
    Absent,
    /// One refresh cookie; `legacy` when it has the old name (`crate::http::cookies`).
    One {
        token: String,
        legacy: bool,
    },
    Several,
}

impl RefreshCookie {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let (mut current, mut legacy) = (Vec::new(), Vec::new());
        for (name, value) in cookie_pairs(headers) {
            if name == REFRESH_COOKIE.as_bytes() {
                current.push(value);
            } else if name == LEGACY_REFRESH_COOKIE.as_bytes() {
                legacy.push(value);
            }
        }
        let one = |values: Vec<&[u8]>, legacy| match values.as_slice() {
            [value] => RefreshCookie::One {
                token: String::from_utf8_lossy(value).into_owned(),
                legacy,
            },
            _ => RefreshCookie::Several,
        };
        match (current.len(), legacy.len()) {
            (0, 0) => RefreshCookie::Absent,
            // The current name wins over an old one (which the answer clears).
            (0, _) => one(legacy, true),
            _ => one(current, false),
        }
    }

    /// Whether the request carries a cookie of the old name (to clear it in the answer).
    pub fn carries_legacy(headers: &HeaderMap) -> bool {
        cookie_pairs(headers).any(|(name, _)| name == LEGACY_REFRESH_COOKIE.as_bytes())
    }
}

/// Every `name=value` pair of every `Cookie` header, as bytes (names and values trimmed, a
/// quoted value unquoted).
fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&[u8], &[u8])> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .filter_map(|pair| {
            let at = pair.iter().position(|b| *b == b'=')?;
            let name = pair[..at].trim_ascii();
            let mut value = pair[at + 1..].trim_ascii();
            if value.len() >= 2 && value.starts_with(b"\"") && value.ends_with(b"\"") {
                value = &value[1..value.len() - 1];
            }
            Some((name, value))
        })
}

/// The first cookie named `name`, read from the raw headers as bytes (a cookie jar drops the
/// whole header when one cookie in it is not ASCII).
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    cookie_pairs(headers)
        .find(|(n, _)| *n == name.as_bytes())
        .and_then(|(_, v)| std::str::from_utf8(v).ok().map(str::to_owned))
}

/// The refresh cookie a request presents, as the cookie endpoints may use it: one of the old
/// name only for a token issued before the rename (see the module docs) — any other was
/// planted (or kept alive by rotating it under the old name) and counts as no cookie at all.
pub struct PresentedRefresh {
    pub cookie: RefreshCookie,
    /// An old-name cookie came with the request (the answer deletes it).
    legacy_present: bool,
}

impl PresentedRefresh {
    /// `jar`, plus the deletion of an old-name cookie if the request had one (the new name
    /// replaces it, or the session is over).
    pub fn answer(&self, jar: CookieJar) -> CookieJar {
        if self.legacy_present {
            jar.add(clear_legacy_refresh_cookie())
        } else {
            jar
        }
    }
}

impl FromRequestParts<AppState> for PresentedRefresh {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let legacy_present = RefreshCookie::carries_legacy(&parts.headers);
        let mut cookie = RefreshCookie::from_headers(&parts.headers);
        if let RefreshCookie::One {
            token,
            legacy: true,
        } = &cookie
        {
            if !state
                .sessions
                .issued_before(token, state.legacy_cookie_cutoff)
                .await?
            {
                tracing::warn!(
                    "ignored an old-name refresh cookie with a token newer than the rename (planted?)"
                );
                cookie = RefreshCookie::Absent;
            }
        }
        Ok(PresentedRefresh {
            cookie,
            legacy_present,
        })
    }
}
