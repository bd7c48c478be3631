//! Where a request goes, decided before anything is sent.
//!
//! Every URL is resolved with the browser's URL parser (so `/a/../b`, `%2e`, backslashes and
//! tabs mean what the browser will send), then:
//! * **the access token goes only to allowed origins**: the page's own, the backend's base
//!   URL's, and those in [`ClientConfig::allowed_origins`](crate::ClientConfig); any other
//!   URL is refused with [`ClientError::Misuse`](crate::ClientError) and nothing is sent;
//! * **the cookie endpoints never get a Bearer call**: a URL whose path, compared segment by
//!   segment (empty segments dropped, percent-escapes decoded), lies under one of the
//!   protocol's cookie paths is refused. `/api/authors` is not under `/api/auth`;
//!   `/api//auth/x` and `https://this-origin/api/%61uth/x` are.

use wasm_bindgen::JsCast;

use super::request::Request;

/// A URL the client may send to: absolute, without its query (which is in `query`, in order,
/// the request's own parameters last) or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub url: String,
    pub query: Vec<(String, String)>,
    pub origin: String,
    pub path: String,
}

/// The rules above, for one client.
pub(crate) struct Targets {
    /// The backend's base URL, absolute, without a trailing `/`.
    base: String,
    allowed: Vec<String>,
    /// The cookie paths as (origin, decoded segments).
    cookie_paths: Vec<(String, Vec<String>)>,
}

/// `window.location.origin`.
pub(crate) fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

impl Targets {
    /// Rules for a backend at `base_url` (`""`: the page's origin) with `cookie_paths`, and
    /// `extra_origins` allowed besides.
    pub(crate) fn new(base_url: &str, cookie_paths: &[String], extra_origins: &[String]) -> Self {
        let page = page_origin();
        let base = if base_url.is_empty() {
            page.clone()
        } else {
            web_sys::Url::new_with_base(base_url, &[page.as_str(), "/"].concat())
                .map(|u| u.href())
                .unwrap_or_else(|_| base_url.to_owned())
        };
        let base = base.trim_end_matches('/').to_owned();
        let mut targets = Targets {
            base,
            allowed: Vec::new(),
            cookie_paths: Vec::new(),
        };
        let mut allowed = vec![page];
        allowed.extend(targets.parse(&targets.base).map(|u| u.origin()));
        for origin in extra_origins {
            allowed.push(origin.trim_end_matches('/').to_owned());
        }
        allowed.retain(|o| !o.is_empty() && o != "null");
        targets.allowed = allowed;
        for path in cookie_paths {
            if let Some(url) = targets.parse(path) {
                if let Ok(segments) = segments(&url.pathname()) {
                    targets.cookie_paths.push((url.origin(), segments));
                }
            }
        }
        targets
    }

    /// `url` against the base: a path starting with one `/` is appended to the base URL (its
    /// own path included); anything else resolves as a browser would (`//host`, `https://…`,
    /// `page?x`).
    fn parse(&self, url: &str) -> Option<web_sys::Url> {
        let base = [self.base.as_str(), "/"].concat();
        let appended;
        let url = if url.starts_with('/') && !url.starts_with("//") {
            appended = [self.base.as_str(), url].concat();
            appended.as_str()
        } else {
            url
        };
        web_sys::Url::new_with_base(url, &base).ok()
    }

    /// `request`'s URL, absolute, with its query parameters.
    pub(crate) fn resolve(&self, request: &Request) -> Result<Resolved, String> {
        let url = self
            .parse(&request.url)
            .ok_or_else(|| [&request.url, " is not a URL"].concat())?;
        if !matches!(url.protocol().as_str(), "http:" | "https:") {
            return Err([&request.url, " is not an http(s) URL"].concat());
        }
        let mut query = Vec::new();
        for pair in js_sys::Array::from(&url.search_params()).iter() {
            let pair: js_sys::Array = pair.unchecked_into();
            let text = |i| pair.get(i).as_string().unwrap_or_default();
            query.push((text(0), text(1)));
        }
        query.extend(request.query.iter().cloned());
        url.set_search("");
        url.set_hash("");
        Ok(Resolved {
            url: url.href(),
            query,
            origin: url.origin(),
            path: url.pathname(),
        })
    }

    /// Whether the access token may go to `resolved`'s origin.
    pub(crate) fn allows(&self, resolved: &Resolved) -> bool {
        self.allowed.contains(&resolved.origin)
    }

    /// [`Targets::resolve`], then the two rules for a request that carries the access token.
    pub(crate) fn for_bearer(&self, request: &Request) -> Result<Resolved, String> {
        let resolved = self.resolve(request)?;
        if !self.allows(&resolved) {
            return Err([
                "the access token is not sent to ",
                &resolved.origin,
                ": add the origin to ClientConfig::allowed_origins if it should be",
            ]
            .concat());
        }
        let path = segments(&resolved.path)
            .map_err(|_| [&request.url, " has a malformed path"].concat())?;
        let under_cookie_path = self
            .cookie_paths
            .iter()
            .any(|(origin, prefix)| *origin == resolved.origin && path.starts_with(prefix));
        if under_cookie_path {
            return Err([
                &request.url,
                " is a cookie endpoint: sign-in, refresh and sign-out go through AuthEndpoints, not the Bearer client",
            ]
            .concat());
        }
        Ok(resolved)
    }

    /// The next page `link` (a `Link` target, relative to the page at `current`), if it stays
    /// on `current`'s origin.
    pub(crate) fn next_page(&self, current: &str, link: &str) -> Option<String> {
        let here = self.parse(current)?;
        let next = web_sys::Url::new_with_base(link, &here.href()).ok()?;
        (next.origin() == here.origin()).then(|| next.href())
    }
}

/// A path's segments, empty ones dropped, each percent-decoded.
fn segments(path: &str) -> Result<Vec<String>, ()> {
    let mut out = Vec::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        out.push(String::from(
            js_sys::decode_uri_component(segment).map_err(|_| ())?,
        ));
    }
    Ok(out)
}
