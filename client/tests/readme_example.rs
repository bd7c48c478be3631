//! The examples of `docs/client.md` (the guide to using the client) are the compiled example
//! files, word for word: `examples/minimal_app.rs` whole, and the `Protocol` impl of
//! `examples/third_party_app.rs`.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The guide that shows the examples.
const GUIDE: &str = include_str!("../../docs/client.md");

#[wasm_bindgen_test]
fn the_guides_example_is_the_compiled_example_file() {
    let example = include_str!("../examples/minimal_app.rs");
    let code = example
        .split_once("\n\n")
        .map(|(_header, code)| code)
        .expect("a header comment, a blank line, then the code");
    assert!(
        GUIDE.contains(code),
        "docs/client.md's example differs from client/examples/minimal_app.rs"
    );
}

/// The text of `example` from the line starting with `start` to the next line that is `}`.
fn item<'a>(example: &'a str, start: &str) -> &'a str {
    let from = example.find(start).expect(start);
    let len = example[from..].find("\n}\n").expect("the item's end") + 2;
    &example[from..from + len]
}

#[wasm_bindgen_test]
fn the_guides_protocol_for_another_backend_is_the_compiled_example() {
    let example = include_str!("../examples/third_party_app.rs");
    for start in [
        "pub struct OAuthStyle {",
        "impl OAuthStyle {",
        "impl Protocol for OAuthStyle {",
    ] {
        let code = item(example, start);
        assert!(
            GUIDE.contains(code),
            "docs/client.md's `{start}` differs from client/examples/third_party_app.rs"
        );
    }
}
