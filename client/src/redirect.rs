//! Return-to after sign-in, without an open redirect.
//!
//! `?next=` is resolved with the browser's URL parser against the page's origin — the same
//! parser that drops tab, CR and LF, so `/%09/evil.example` becomes `//evil.example` and then
//! `http://evil.example/`. Only a result on the page's own origin is used (its path, query
//! and fragment); anything else goes to `/`.

/// The same-origin path to go to after sign-in, for `next` from the query string.
pub fn safe_return_path(next: Option<&str>) -> String {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default();
    safe_return_path_for(next, &origin)
}

/// [`safe_return_path`] against an explicit origin such as `http://127.0.0.1:8080`.
pub fn safe_return_path_for(next: Option<&str>, origin: &str) -> String {
    let fallback = || "/".to_owned();
    let Some(next) = next.filter(|n| !n.is_empty()) else {
        return fallback();
    };
    if origin.is_empty() || origin == "null" {
        return fallback();
    }
    let Ok(url) = web_sys::Url::new_with_base(next, &[origin, "/"].concat()) else {
        return fallback();
    };
    if url.origin() != origin {
        return fallback();
    }
    let path = [url.pathname(), url.search(), url.hash()].concat();
    if path.starts_with('/') && !path.starts_with("//") {
        path
    } else {
        fallback()
    }
}

/// `login_path?next=<this page's path, query and fragment>`, for a route guard's redirect.
pub fn login_redirect(login_path: &str) -> String {
    let here = web_sys::window()
        .and_then(|w| {
            let l = w.location();
            Some([l.pathname().ok()?, l.search().ok()?, l.hash().ok()?].concat())
        })
        .unwrap_or_else(|| "/".into());
    [
        login_path,
        "?next=",
        &String::from(js_sys::encode_uri_component(&here)),
    ]
    .concat()
}
