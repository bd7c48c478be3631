//! Return-to after sign-in: only same-origin paths, resolved with the browser's URL parser.
#![cfg(target_arch = "wasm32")]

use tokenpair_client::safe_return_path_for;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ORIGIN: &str = "http://127.0.0.1:8080";

#[wasm_bindgen_test]
fn same_origin_paths_are_kept_with_their_query_and_fragment() {
    assert_eq!(safe_return_path_for(Some("/sessions"), ORIGIN), "/sessions");
    assert_eq!(
        safe_return_path_for(Some("/token?x=1#top"), ORIGIN),
        "/token?x=1#top"
    );
    assert_eq!(safe_return_path_for(Some("sessions"), ORIGIN), "/sessions");
    assert_eq!(
        safe_return_path_for(Some("http://127.0.0.1:8080/token"), ORIGIN),
        "/token"
    );
}

#[wasm_bindgen_test]
fn anything_that_leaves_the_origin_goes_home() {
    for next in [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r/evil.example",
        "\t//evil.example",
        "https://evil.example/",
        "http://127.0.0.1:8081/",
        "javascript:alert(1)",
        "data:text/html,hi",
    ] {
        assert_eq!(safe_return_path_for(Some(next), ORIGIN), "/", "{next:?}");
    }
    assert_eq!(safe_return_path_for(None, ORIGIN), "/");
    assert_eq!(safe_return_path_for(Some(""), ORIGIN), "/");
}

#[wasm_bindgen_test]
fn an_encoded_tab_is_a_path_on_this_origin_not_a_way_out() {
    // `%09` is not a tab to the URL parser: this is the path `/%09/`, resolved as the
    // browser resolves it, and stays here.
    assert_eq!(
        safe_return_path_for(Some("/%09/evil.example/.."), ORIGIN),
        "/%09/"
    );
}
