//! Where the browser has no Ed25519 in WebCrypto, the DPoP key is ECDSA P-256 (`ES256`):
//! still non-extractable, its proofs verify with the header's key, and its thumbprint covers
//! `crv`, `kty`, `x`, `y`. (Its own file: the test takes Ed25519 away from the whole page.)
#![cfg(target_arch = "wasm32")]

use tokenpair_client::dpop::{DpopKey, ProofFor};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
const unb64u = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
export function withoutEd25519() {
  const original = crypto.subtle.generateKey.bind(crypto.subtle);
  crypto.subtle.generateKey = (alg, ...rest) => (alg && alg.name === 'Ed25519')
    ? Promise.reject(new DOMException('Unrecognized name.', 'NotSupportedError'))
    : original(alg, ...rest);
}
export async function check(jwt) {
  const [h, c, s] = jwt.split('.');
  const header = JSON.parse(new TextDecoder().decode(unb64u(h)));
  const key = await crypto.subtle.importKey('jwk', header.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const verified = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, unb64u(s), new TextEncoder().encode(h + '.' + c));
  const { crv, kty, x, y } = header.jwk;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(JSON.stringify({ crv, kty, x, y })));
  const jkt = btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return { alg: header.alg, verified, jkt };
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = withoutEd25519)]
    fn without_ed25519();
    fn check(jwt: &str) -> js_sys::Promise;
}

fn get(v: &JsValue, k: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

#[wasm_bindgen_test]
async fn without_ed25519_the_key_is_p256_and_its_proofs_are_es256() {
    without_ed25519();
    let key = DpopKey::new("dpop-test-p256");
    key.forget().await.ok();
    let proof = key
        .proof(
            true,
            ProofFor {
                method: "POST",
                url: "http://127.0.0.1/api/auth/login",
                access_token: None,
                nonce: None,
                issued_at: js_sys::Date::now() / 1000.0,
            },
        )
        .await
        .unwrap()
        .expect("made");
    let seen = JsFuture::from(check(&proof.jwt)).await.unwrap();
    assert_eq!(get(&seen, "alg").as_string().as_deref(), Some("ES256"));
    assert_eq!(get(&seen, "verified"), JsValue::TRUE);
    assert_eq!(get(&seen, "jkt").as_string(), Some(proof.jkt));
    key.forget().await.unwrap();
}
