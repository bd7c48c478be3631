//! Serving the built SPA (trunk's `dist/`) from the same origin as the API.
//!
//! Hashed assets (`*.js`, `*.wasm`, `*.css`) are served with long-lived caching and, when
//! `name.gz` / `name.br` exist beside them, precompressed; without those copies (a plain
//! `trunk build --release`) every answer is compressed on the fly (gzip or brotli, as the
//! browser asks), so the wasm never travels uncompressed. A missing file (a path whose last
//! segment has a dot, like `/favicon.ico`) is a 404. Every other non-API path — and
//! `/index.html` itself — gets `index.html` (client-side routes), uncached, with a
//! Content-Security-Policy that allows scripts only from this origin, WebAssembly compilation,
//! and trunk's inline loader by its SHA-256 hash — computed from the file on every request, so
//! a rebuild never breaks the page.

use std::path::PathBuf;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::{engine::general_purpose::STANDARD, Engine};
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

/// The SPA routes: `/` and every path not claimed by the API.
pub fn router(state: &AppState) -> Router<AppState> {
    let index_page = get(index).head(index);
    let files = ServeDir::new(&state.config.static_dir)
        .precompressed_gzip()
        .precompressed_br()
        .append_index_html_on_directories(false)
        .fallback(get(missing_file_or_route).with_state(state.clone()));
    // wasm-bindgen's JavaScript snippets (the client's DPoP key) live at a path named after
    // the crate and its version, not their content: revalidated on every load, never kept
    // for a year (a new build's loader would meet an old snippet and fail its integrity check).
    let snippets = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(
            ServeDir::new(state.config.static_dir.join("snippets"))
                .precompressed_gzip()
                .precompressed_br()
                .append_index_html_on_directories(false),
        );
    let cached_files = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ))
        .service(files);
    Router::new()
        .route("/", index_page.clone())
        // Never the static file: it must carry the CSP and must not be cached for a year.
        .route("/index.html", index_page)
        .nest_service("/snippets", snippets)
        .fallback_service(cached_files)
        // Precompressed copies already carry a Content-Encoding and pass through untouched.
        .layer(CompressionLayer::new())
}

/// Not a file in `dist/`: a client-side route gets the page, a missing asset a 404 (not a
/// 200 with HTML that a browser would try to run as a script or show as an image).
async fn missing_file_or_route(state: State<AppState>, uri: Uri) -> Response {
    let last = uri.path().rsplit('/').next().unwrap_or_default();
    if last.contains('.') {
        return (
            StatusCode::NOT_FOUND,
            [(header::CACHE_CONTROL, "no-store")],
            "Not found",
        )
            .into_response();
    }
    index(state).await
}

async fn index(State(state): State<AppState>) -> Response {
    let path: PathBuf = state.config.static_dir.join("index.html");
    match tokio::fs::read_to_string(&path).await {
        Ok(html) => {
            let csp = content_security_policy(&html);
            let mut response = Html(html).into_response();
            let h = response.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&csp) {
                h.insert(header::CONTENT_SECURITY_POLICY, v);
            }
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CACHE_CONTROL, "no-store")],
            Html(format!(
                "<!doctype html><title>tokenpair</title><h1>The SPA is not built</h1>\
                 <p>No <code>{}</code>. Run <code>make run</code>, or <code>trunk build --release</code> \
                 and start the server with <code>--static-dir dist</code>. The API under <code>/api</code> works.</p>",
                path.display()
            )),
        )
            .into_response(),
    }
}

/// The policy for index.html: only same-origin scripts plus the page's own inline scripts by
/// hash (trunk's module loader), wasm compilation, no framing, no plugins, no base-URI tricks.
pub fn content_security_policy(html: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|s| {
            format!(
                " 'sha256-{}'",
                STANDARD.encode(Sha256::digest(s.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements without a `src` attribute.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attrs, after) = rest.split_once('>')?;
        let (body, _) = after.split_once("</script>")?;
        (!attrs.contains("src=")).then_some(body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_inline_scripts_only_by_their_hash() {
        let html = r#"<html><head><script type="module">import init from '/app.js';</script>
            <script src="/other.js"></script></head></html>"#;
        let csp = content_security_policy(html);
        let expected = STANDARD.encode(Sha256::digest(b"import init from '/app.js';"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 1);
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline"));
    }
}
