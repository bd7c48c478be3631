//! The release bundle itself: what the browser is told to trust is what it gets.

use base64::Engine;
use sha2::{Digest, Sha384};
use tokenpair_e2e::dist_dir;

/// `scripts/minify-release.sh` rewrites the wasm and its JS loader after trunk hashed them; every Subresource
/// Integrity hash in index.html must still name the exact bytes of its file, or a browser
/// would refuse (or silently re-fetch) it.
#[test]
fn every_integrity_hash_in_index_html_matches_the_file_it_names() {
    let dist = dist_dir();
    let html = std::fs::read_to_string(dist.join("index.html")).unwrap_or_else(|e| {
        panic!(
            "read {}/index.html (build the SPA first): {e}",
            dist.display()
        )
    });
    let mut checked = 0;
    for tag in html.split('<').filter(|t| t.contains("integrity=")) {
        let attr = |name: &str| {
            tag.split_whitespace()
                .find_map(|a| a.strip_prefix(&format!("{name}=")))
                .map(|v| {
                    v.trim_matches(|c| c == '"' || c == '\'' || c == '>')
                        .to_owned()
                })
        };
        let href = attr("href").expect("an integrity attribute belongs to an href");
        let integrity = attr("integrity").expect("integrity value");
        let expected = integrity
            .strip_prefix("sha384-")
            .unwrap_or_else(|| panic!("sha384 integrity for {href}: {integrity}"));
        let bytes = std::fs::read(dist.join(href.trim_start_matches('/')))
            .unwrap_or_else(|e| panic!("read {href}: {e}"));
        let actual = base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&bytes));
        assert_eq!(actual, expected, "integrity of {href}");
        checked += 1;
    }
    // The stylesheet, the JS loader (modulepreload) and the wasm (preload).
    assert!(
        checked >= 3,
        "only {checked} integrity attributes in {html}"
    );
}

/// `scripts/minify-release.sh` gives the wasm's imports and exports short names, in the wasm
/// and in its JS loader alike: no hashed wasm-bindgen name (`__wbg_focus_<16 hex digits>`)
/// is left in the loader the browser downloads.
#[test]
fn the_release_loader_calls_the_wasm_by_short_names() {
    let dist = dist_dir();
    let loader = std::fs::read_dir(&dist)
        .unwrap_or_else(|e| panic!("read {} (build the SPA first): {e}", dist.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "js"))
        .expect("a JS loader in dist");
    let js = std::fs::read_to_string(&loader).expect("read the loader");
    let hashed: Vec<&str> = js
        .match_indices("__wbg_")
        .map(|(at, _)| {
            let name = &js[at..];
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            &name[..end]
        })
        .filter(|name| {
            name.rsplit_once('_').is_some_and(|(_, hash)| {
                hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
            })
        })
        .collect();
    assert!(
        hashed.is_empty(),
        "{} hashed import names left in {}, e.g. {:?}",
        hashed.len(),
        loader.display(),
        &hashed[..hashed.len().min(3)]
    );
    assert!(js.len() > 1000, "the loader is suspiciously small");
}
