//! Where IndexedDB is unavailable, the DPoP key lives in the page's memory: it still signs,
//! says it is not kept (so a reload ends the session, with a message saying why), and is
//! forgotten on sign-out. (Its own file: the test hides `indexedDB` from the whole page.)
#![cfg(target_arch = "wasm32")]

use tokenpair_client::dpop::{DpopKey, ProofFor};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn at<'a>(method: &'a str, url: &'a str) -> ProofFor<'a> {
    ProofFor {
        method,
        url,
        access_token: None,
        nonce: None,
        issued_at: js_sys::Date::now() / 1000.0,
    }
}

#[wasm_bindgen(inline_js = r#"
export function hideIndexedDb() { Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true }); }
export function restoreIndexedDb() { delete globalThis.indexedDB; }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = hideIndexedDb)]
    fn hide_indexed_db();
    #[wasm_bindgen(js_name = restoreIndexedDb)]
    fn restore_indexed_db();
}

#[wasm_bindgen_test]
async fn without_indexed_db_the_key_lives_in_the_pages_memory_and_says_it_is_not_kept() {
    hide_indexed_db();
    let key = DpopKey::new("dpop-test-memory");
    let made = key
        .proof(true, at("POST", "http://127.0.0.1/api/auth/login"))
        .await;
    let again = key
        .proof(false, at("POST", "http://127.0.0.1/api/auth/refresh"))
        .await;
    let forgotten = key.forget().await;
    let after = key
        .proof(false, at("POST", "http://127.0.0.1/api/auth/refresh"))
        .await;
    restore_indexed_db();
    let made = made.unwrap().expect("made in memory");
    assert!(!made.kept, "not kept: a reload loses it");
    assert_eq!(again.unwrap().expect("the same key").jkt, made.jkt);
    forgotten.unwrap();
    assert_eq!(after.unwrap(), None, "forgotten");
}
