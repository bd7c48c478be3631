//! Paginated lists (the server pages `GET /api/sessions` with `Link: <…>; rel="next"`): the
//! client follows the links to the end, and reads the header right. Runs in Chromium.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{config, signed_in, FakeServer};
use tokenpair_client::http::next_link;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn get_json_pages_follows_rel_next_to_the_last_page_and_keeps_the_order() {
    let server = FakeServer::with_session(300);
    let client = signed_in(&server, config("pages-follow")).await;
    let items: Vec<i64> = client
        .api()
        .get_json_pages("/api/pages")
        .await
        .expect("every page");
    assert_eq!(items, [1, 2, 3, 4, 5]);
    assert_eq!(server.counters(|c| c.page_requests), 3);
}

#[wasm_bindgen_test]
fn the_next_link_is_found_among_others_and_nothing_else_is_taken_for_it() {
    assert_eq!(
        next_link(r#"</api/sessions?limit=20&cursor=1.abc>; rel="next""#).as_deref(),
        Some("/api/sessions?limit=20&cursor=1.abc")
    );
    assert_eq!(
        next_link(r#"</a>; rel="prev", </b>; rel=next"#).as_deref(),
        Some("/b")
    );
    assert_eq!(next_link(r#"</a>; rel="prev""#), None);
    assert_eq!(next_link("garbage"), None);
}
