//! CSRF defence for the cookie-authenticated endpoints (`/api/auth/*`).
//!
//! The refresh cookie is `SameSite=Strict`, which already keeps it off cross-site requests.
//! On top of that, every request here must:
//! * carry `X-Requested-With: XMLHttpRequest` — a cross-site form cannot send it, and a
//!   cross-site `fetch` that sets it needs a CORS preflight this server never grants;
//! * not be marked `Sec-Fetch-Site: cross-site` (or `same-site`) by the browser;
//! * if it has an `Origin`, come from this server's own origin or one listed in
//!   `ALLOWED_ORIGINS`. The own origin is `PUBLIC_URL` ([`crate::public_url`]); when that is
//!   not set (local use), the request's `Host`, or the `X-Forwarded-Host` that `trunk serve`'s
//!   proxy sets, also counts.
//!
//! A refused request gets 403 `csrf_rejected` before any handler runs: no state changes.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use tokenpair_api::{CSRF_HEADER, CSRF_HEADER_VALUE};

use crate::http::error::ApiError;
use crate::public_url::PublicUrl;
use crate::state::AppState;

/// Which origins may call the cookie endpoints.
pub struct Origins<'a> {
    pub public_url: &'a PublicUrl,
    pub allowed: &'a [String],
}

pub async fn guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let origins = Origins {
        public_url: &state.config.network.public_url,
        allowed: &state.config.network.allowed_origins,
    };
    check(request.headers(), &origins)?;
    Ok(next.run(request).await)
}

pub fn check(headers: &HeaderMap, origins: &Origins) -> Result<(), ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };

    if !header(CSRF_HEADER).is_some_and(|v| v.eq_ignore_ascii_case(CSRF_HEADER_VALUE)) {
        return Err(ApiError::Csrf(
            "This endpoint requires the header `X-Requested-With: XMLHttpRequest`.",
        ));
    }
    if let Some(site) = header("sec-fetch-site") {
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return Err(ApiError::Csrf(
                "Cross-site requests to this endpoint are refused.",
            ));
        }
    }
    if let Some(origin) = header("origin") {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        let public = origins.public_url;
        let own = origin == public.origin()
            || (!public.is_explicit()
                && [header("host"), header("x-forwarded-host")]
                    .into_iter()
                    .flatten()
                    .any(|h| authority.is_some_and(|a| a.eq_ignore_ascii_case(h))));
        if !own && !origins.allowed.contains(&origin) {
            return Err(ApiError::Csrf("Requests from another origin are refused."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> PublicUrl {
        PublicUrl::derived("127.0.0.1:8080".parse().unwrap())
    }

    fn check_local(h: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
        check(
            h,
            &Origins {
                public_url: &local(),
                allowed,
            },
        )
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const XRW: (&str, &str) = ("x-requested-with", "XMLHttpRequest");
    const HOST: (&str, &str) = ("host", "127.0.0.1:8080");

    #[test]
    fn same_origin_requests_with_the_header_pass() {
        assert!(check_local(&headers(&[XRW, HOST]), &[]).is_ok());
        assert!(check_local(
            &headers(&[
                XRW,
                HOST,
                ("origin", "http://127.0.0.1:8080"),
                ("sec-fetch-site", "same-origin")
            ]),
            &[]
        )
        .is_ok());
    }

    #[test]
    fn the_trunk_proxy_origin_is_recognised_through_x_forwarded_host() {
        let h = headers(&[
            XRW,
            ("host", "127.0.0.1"),
            ("x-forwarded-host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(check_local(&h, &[]).is_ok());
    }

    #[test]
    fn missing_header_foreign_origin_and_cross_site_are_refused() {
        assert!(check_local(&headers(&[HOST]), &[]).is_err());
        assert!(check_local(&headers(&[("x-requested-with", "fetch"), HOST]), &[]).is_err());
        assert!(check_local(
            &headers(&[XRW, HOST, ("origin", "https://evil.example")]),
            &[]
        )
        .is_err());
        assert!(check_local(&headers(&[XRW, HOST, ("origin", "null")]), &[]).is_err());
        assert!(check_local(
            &headers(&[XRW, HOST, ("sec-fetch-site", "cross-site")]),
            &[]
        )
        .is_err());
        assert!(check_local(
            &headers(&[XRW, HOST, ("origin", "http://127.0.0.1:8080.evil.example")]),
            &[]
        )
        .is_err());
    }

    #[test]
    fn configured_origins_are_allowed() {
        let allowed = vec!["http://localhost:5173".to_owned()];
        assert!(check_local(
            &headers(&[XRW, HOST, ("origin", "http://localhost:5173")]),
            &allowed
        )
        .is_ok());
    }
}

#[cfg(test)]
mod public_url_tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn with_a_public_url_only_its_origin_counts_not_the_host_header() {
        let public = PublicUrl::parse("https://auth.example.com").unwrap();
        let origins = Origins {
            public_url: &public,
            allowed: &[],
        };
        let xrw = ("x-requested-with", "XMLHttpRequest");
        let ok = h(&[
            xrw,
            ("host", "auth.example.com"),
            ("origin", "https://auth.example.com"),
        ]);
        assert!(check(&ok, &origins).is_ok());
        // DNS rebinding: the attacker's name in Origin and Host alike.
        let rebound = h(&[
            xrw,
            ("host", "rebind.evil.example"),
            ("origin", "http://rebind.evil.example"),
        ]);
        assert!(check(&rebound, &origins).is_err());
        let forwarded = h(&[
            xrw,
            ("host", "auth.example.com"),
            ("x-forwarded-host", "evil.example"),
            ("origin", "https://evil.example"),
        ]);
        assert!(check(&forwarded, &origins).is_err());
        // Same host, other scheme: another origin.
        let plain = h(&[
            xrw,
            ("host", "auth.example.com"),
            ("origin", "http://auth.example.com"),
        ]);
        assert!(check(&plain, &origins).is_err());
    }
}
