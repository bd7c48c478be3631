//! The DPoP key in Chromium: made non-extractable, kept in IndexedDB
//! and reused, proofs that verify with the public key in their header, and forgotten on
//! sign-out.
#![cfg(target_arch = "wasm32")]

use tokenpair_client::dpop::{DpopKey, ProofFor};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const unb64u = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
export async function inspect(db, jwt) {
  const d = await new Promise((ok, no) => { const r = indexedDB.open(db, 1); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const pair = await new Promise((ok, no) => { const r = d.transaction('keys').objectStore('keys').get('dpop'); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  d.close();
  let exported = true;
  try { await crypto.subtle.exportKey('jwk', pair.privateKey); } catch (_) { exported = false; }
  const [h, c, s] = jwt.split('.');
  const alg = pair.privateKey.algorithm.name === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' };
  const verified = await crypto.subtle.verify(alg, pair.publicKey, unb64u(s), new TextEncoder().encode(h + '.' + c));
  const dec = (p) => JSON.parse(new TextDecoder().decode(unb64u(p)));
  return { exported, extractable: pair.privateKey.extractable, verified, header: dec(h), claims: dec(c) };
}
export async function plant(db) {
  // What a script on the page could store: a pair whose private key it knows (extractable).
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const d = await new Promise((ok, no) => { const r = indexedDB.open(db, 1); r.onupgradeneeded = () => r.result.createObjectStore('keys'); r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  await new Promise((ok, no) => { const r = d.transaction('keys', 'readwrite').objectStore('keys').put(pair, 'dpop'); r.onsuccess = () => ok(); r.onerror = () => no(r.error); });
  d.close();
}
"#)]
extern "C" {
    fn inspect(db: &str, jwt: &str) -> js_sys::Promise;
    fn plant(db: &str) -> js_sys::Promise;
}

fn at<'a>(
    method: &'a str,
    url: &'a str,
    access_token: Option<&'a str>,
    nonce: Option<&'a str>,
) -> ProofFor<'a> {
    ProofFor {
        method,
        url,
        access_token,
        nonce,
        issued_at: js_sys::Date::now() / 1000.0,
    }
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |v, k| {
        js_sys::Reflect::get(&v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
    })
}

#[wasm_bindgen_test]
async fn the_key_is_not_extractable_is_kept_and_its_proofs_verify_with_the_header_key() {
    let key = DpopKey::new("dpop-test-a");
    key.forget().await.ok();
    assert_eq!(
        key.proof(false, at("GET", "http://127.0.0.1/api/me", None, None))
            .await
            .unwrap(),
        None,
        "without `create`, no key is made"
    );
    let first = key
        .proof(
            true,
            at(
                "GET",
                "http://127.0.0.1/api/me",
                Some("the-token"),
                Some("n-1"),
            ),
        )
        .await
        .unwrap()
        .expect("made");
    assert!(first.kept, "kept in IndexedDB");
    let seen = JsFuture::from(inspect("dpop-test-a:dpop", &first.jwt))
        .await
        .unwrap();
    assert_eq!(
        get(&seen, &["exported"]),
        JsValue::FALSE,
        "exportKey rejects"
    );
    assert_eq!(get(&seen, &["extractable"]), JsValue::FALSE);
    assert_eq!(get(&seen, &["verified"]), JsValue::TRUE);
    assert_eq!(
        get(&seen, &["header", "typ"]).as_string().as_deref(),
        Some("dpop+jwt")
    );
    assert_eq!(
        get(&seen, &["header", "alg"]).as_string().as_deref(),
        Some("EdDSA"),
        "Chromium has Ed25519: the faster key for the server"
    );
    assert!(
        get(&seen, &["header", "jwk", "d"]).is_undefined(),
        "no private member"
    );
    assert_eq!(
        get(&seen, &["claims", "htm"]).as_string().as_deref(),
        Some("GET")
    );
    assert_eq!(
        get(&seen, &["claims", "nonce"]).as_string().as_deref(),
        Some("n-1")
    );
    assert!(get(&seen, &["claims", "ath"]).as_string().is_some());

    // The same key for the next proof (and after a reload: it is in IndexedDB).
    let second = key
        .proof(
            false,
            at("POST", "http://127.0.0.1/api/auth/refresh", None, None),
        )
        .await
        .unwrap()
        .expect("kept");
    assert_eq!(second.jkt, first.jkt);
    assert_ne!(second.jwt, first.jwt);
    // Forgotten on sign-out: the next proof has a new key.
    key.forget().await.unwrap();
    let third = key
        .proof(true, at("GET", "http://127.0.0.1/api/me", None, None))
        .await
        .unwrap()
        .expect("made");
    assert_ne!(third.jkt, first.jkt);
}

#[wasm_bindgen_test]
async fn a_planted_extractable_key_is_never_used_and_a_sign_in_replaces_it() {
    let key = DpopKey::new("dpop-test-planted");
    key.forget().await.ok();
    JsFuture::from(plant("dpop-test-planted:dpop"))
        .await
        .unwrap();
    assert_eq!(
        key.proof(false, at("GET", "http://127.0.0.1/api/me", None, None))
            .await
            .unwrap(),
        None,
        "an extractable pair is not a key this client made: no proof with it"
    );
    let made = key
        .proof(
            true,
            at("POST", "http://127.0.0.1/api/auth/login", None, None),
        )
        .await
        .unwrap()
        .expect("a new key");
    let seen = JsFuture::from(inspect("dpop-test-planted:dpop", &made.jwt))
        .await
        .unwrap();
    assert_eq!(get(&seen, &["extractable"]), JsValue::FALSE, "replaced");
    assert_eq!(get(&seen, &["verified"]), JsValue::TRUE);
    key.forget().await.unwrap();
}
