//! The release bundle itself: what the browser is told to trust is what it gets.

use base64::Engine;
use sha2::{Digest, Sha384};
use tokenpair_e2e::dist_dir;

/// `scripts/minify-js.sh` rewrites the JS loader after trunk hashed it; every Subresource
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
