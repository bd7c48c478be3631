//! The SPA and the security headers (checklist 16): index.html with a Content-Security-Policy
//! that allows only same-origin scripts, wasm and the inline loader by hash; `nosniff`
//! everywhere; client-side routes get index.html; the API's JSON is never the SPA.

mod common;

use base64::{engine::general_purpose::STANDARD, Engine};
use common::*;
use reqwest::{header, StatusCode};
use sha2::{Digest, Sha256};

const LOADER: &str = "import init, * as bindings from '/tokenpair-0123abcd.js';\nwindow.wasmBindings = bindings;\ninit('/tokenpair-0123abcd_bg.wasm');";

fn index_html() -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>tokenpair</title>\n\
         <link rel=\"modulepreload\" href=\"/tokenpair-0123abcd.js\">\n\
         <script type=\"module\">{LOADER}</script>\n\
         <script src=\"/external.js\"></script>\n\
         </head><body></body></html>"
    )
}

async fn spa_server() -> TestServer {
    let server = start().await;
    let dist = server.dir().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), index_html()).unwrap();
    std::fs::write(
        dist.join("tokenpair-0123abcd.js"),
        "export default function init() {}",
    )
    .unwrap();
    server
}

fn csp_of(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get(header::CONTENT_SECURITY_POLICY)
        .expect("a Content-Security-Policy")
        .to_str()
        .unwrap()
        .to_owned()
}

/// The value of one directive, e.g. `script-src`.
fn directive<'a>(csp: &'a str, name: &str) -> Option<&'a str> {
    csp.split(';')
        .map(str::trim)
        .find_map(|d| d.strip_prefix(name).map(str::trim))
}

#[tokio::test]
async fn the_index_page_has_a_csp_allowing_only_self_wasm_and_the_inline_loader_by_hash() {
    let server = spa_server().await;
    let response = server.get("/").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::X_CONTENT_TYPE_OPTIONS],
        "nosniff"
    );
    let csp = csp_of(response.headers());
    assert_eq!(response.text().await.unwrap(), index_html());

    let hash = STANDARD.encode(Sha256::digest(LOADER.as_bytes()));
    let script_src = directive(&csp, "script-src").unwrap_or_else(|| panic!("script-src in {csp}"));
    let mut sources: Vec<&str> = script_src.split_whitespace().collect();
    sources.sort();
    let expected_hash = format!("'sha256-{hash}'");
    let mut expected = vec!["'self'", "'wasm-unsafe-eval'", expected_hash.as_str()];
    expected.sort();
    assert_eq!(
        sources, expected,
        "exactly self, wasm and the loader's hash: {csp}"
    );
    assert_eq!(directive(&csp, "frame-ancestors"), Some("'none'"), "{csp}");
    assert_eq!(directive(&csp, "object-src"), Some("'none'"), "{csp}");
    assert_eq!(directive(&csp, "base-uri"), Some("'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'") && !csp.contains('*'),
        "{csp}"
    );
}

#[tokio::test]
async fn a_client_side_route_gets_the_index_page_with_the_same_headers() {
    let server = spa_server().await;
    let root = server.get("/").send().await.unwrap();
    let root_csp = csp_of(root.headers());
    for path in ["/sessions", "/login", "/some/deep/route"] {
        let response = server.get(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        assert_eq!(csp_of(response.headers()), root_csp, "{path}");
        assert_eq!(response.text().await.unwrap(), index_html(), "{path}");
    }
}

#[tokio::test]
async fn index_html_asked_for_by_name_is_the_same_uncached_page_with_its_csp() {
    let server = spa_server().await;
    let root = server.get("/").send().await.unwrap();
    let by_name = server.get("/index.html").send().await.unwrap();
    assert_eq!(by_name.status(), StatusCode::OK);
    assert_eq!(csp_of(by_name.headers()), csp_of(root.headers()));
    assert_eq!(by_name.headers()[header::CACHE_CONTROL], "no-cache");
    assert_eq!(by_name.text().await.unwrap(), index_html());
}

#[tokio::test]
async fn a_missing_asset_is_a_404_not_the_index_page() {
    let server = spa_server().await;
    for path in [
        "/favicon.ico",
        "/tokenpair-ffffffff.js",
        "/deep/missing.wasm",
    ] {
        let response = server.get(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_ne!(response.text().await.unwrap(), index_html(), "{path}");
    }
    // The hashed assets that exist are cached for good.
    let asset = server.get("/tokenpair-0123abcd.js").send().await.unwrap();
    assert_eq!(
        asset.headers()[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
}

#[tokio::test]
async fn wasm_bindgen_snippets_are_revalidated_not_cached_for_a_year() {
    // Their path names the crate and its version, not their content.
    let server = spa_server().await;
    let dir = server
        .dir()
        .join("dist/snippets/tokenpair-client-0123abcd/src/dpop");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("key.js"), "export function dpopProof() {}").unwrap();
    let snippet = server
        .get("/snippets/tokenpair-client-0123abcd/src/dpop/key.js")
        .send()
        .await
        .unwrap();
    assert_eq!(snippet.status(), StatusCode::OK);
    assert_eq!(snippet.headers()[header::CACHE_CONTROL], "no-cache");
    let missing = server
        .get("/snippets/tokenpair-client-0123abcd/src/dpop/other.js")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_page_may_not_be_framed_and_assets_are_nosniff() {
    let server = spa_server().await;
    let page = server.get("/").send().await.unwrap();
    assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(page.headers()[header::REFERRER_POLICY], "no-referrer");
    let asset = server.get("/tokenpair-0123abcd.js").send().await.unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(asset.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(asset.headers()[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .contains("javascript"));
}

#[tokio::test]
async fn api_answers_are_json_with_nosniff_no_store_and_a_deny_all_csp() {
    let server = spa_server().await;
    for path in ["/api/health", "/api/nope", "/api/me"] {
        let response = server.get(path).send().await.unwrap();
        let h = response.headers();
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::CACHE_CONTROL], "no-store", "{path}");
        assert!(
            h[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{path}"
        );
        let csp = csp_of(h);
        assert_eq!(
            directive(&csp, "default-src"),
            Some("'none'"),
            "{path}: {csp}"
        );
        assert_eq!(
            directive(&csp, "frame-ancestors"),
            Some("'none'"),
            "{path}: {csp}"
        );
    }
}

#[tokio::test]
async fn without_a_built_spa_the_page_says_so_and_the_api_still_works() {
    let server = start().await; // no dist/ directory
    let response = server.get("/").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.text().await.unwrap().contains("not built"));
    assert_eq!(
        server.get("/api/health").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_precompressed_copies_the_wasm_is_compressed_on_the_fly() {
    let server = spa_server().await;
    let wasm = vec![0u8; 64 * 1024]; // compressible, like a real .wasm
    std::fs::write(server.dir().join("dist/tokenpair-0123abcd_bg.wasm"), &wasm).unwrap();
    let raw = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    for (accept, encoding) in [("gzip", "gzip"), ("br", "br")] {
        let response = raw
            .get(server.url("/tokenpair-0123abcd_bg.wasm"))
            .header(header::ACCEPT_ENCODING, accept)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(header::CONTENT_ENCODING).unwrap(),
            encoding
        );
        let body = response.bytes().await.unwrap();
        assert!(
            body.len() < wasm.len() / 10,
            "{accept}: {} bytes",
            body.len()
        );
    }
    // A client that asks for nothing gets the file as it is.
    let plain = raw
        .get(server.url("/tokenpair-0123abcd_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.bytes().await.unwrap().len(), wasm.len());
}
