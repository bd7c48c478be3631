//! The README's example is the compiled `examples/minimal_app.rs`, word for word.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn the_readme_example_is_the_compiled_example_file() {
    let readme = include_str!("../../README.md");
    let example = include_str!("../examples/minimal_app.rs");
    let code = example
        .split_once("\n\n")
        .map(|(_header, code)| code)
        .expect("a header comment, a blank line, then the code");
    assert!(
        readme.contains(code),
        "README.md's example differs from client/examples/minimal_app.rs"
    );
}
