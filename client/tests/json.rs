//! JSON through the browser's own `JSON` object (client/src/json.rs), in Chromium: the shared wire
//! types round-trip with their documented field names, and bad input is an error, never a panic.
#![cfg(target_arch = "wasm32")]

use tokenpair_api::{Credentials, ErrorBody, SessionInfo, TokenResponse, UserSummary};
use tokenpair_client::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn a_token_response_from_the_server_parses_into_the_shared_type() {
    let body = r#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":300,"session_id":"s-1",
                   "user":{"id":7,"username":"user1"},"extra":"ignored"}"#;
    let parsed: TokenResponse = json::from_str(body).expect("parses");
    assert_eq!(parsed.access_token, "a.b.c");
    assert_eq!(parsed.expires_in, 300);
    assert_eq!(
        parsed.user,
        UserSummary {
            id: 7,
            username: "user1".into()
        }
    );
}

#[wasm_bindgen_test]
fn request_bodies_are_written_with_the_documented_field_names() {
    let text = json::to_string(&Credentials {
        username: "user1".into(),
        password: "pa\"ss".into(),
    })
    .expect("serialisable");
    let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(
        back,
        serde_json::json!({"username": "user1", "password": "pa\"ss"})
    );
}

#[wasm_bindgen_test]
fn optional_fields_and_lists_round_trip() {
    let list = vec![SessionInfo {
        id: "s1".into(),
        created_at: "2026-01-01T00:00:00Z".into(),
        last_used_at: "2026-01-01T00:00:00Z".into(),
        expires_at: "2026-01-08T00:00:00Z".into(),
        user_agent: None,
        device: "Unknown device".into(),
        current: true,
    }];
    let text = json::to_string(&list).expect("serialisable");
    assert!(text.contains("\"user_agent\":null"), "{text}");
    let back: Vec<SessionInfo> = json::from_str(&text).expect("parses");
    assert_eq!(back, list);
    // An older server without `device`: still parses, with an empty name.
    let old = r#"[{"id":"s","created_at":"a","last_used_at":"b","expires_at":"c","user_agent":null,"current":false}]"#;
    let parsed: Vec<SessionInfo> = json::from_str(old).expect("parses without device");
    assert_eq!(parsed[0].device, "");
}

#[wasm_bindgen_test]
fn malformed_or_mismatched_json_is_an_error_with_a_reason() {
    assert!(json::from_str::<ErrorBody>("<html>502 Bad Gateway</html>").is_err());
    assert!(json::from_str::<ErrorBody>("").is_err());
    let missing = json::from_str::<ErrorBody>(r#"{"error":"x"}"#).unwrap_err();
    assert!(missing.contains("message"), "{missing}");
    let wrong_type = json::from_str::<TokenResponse>(
        r#"{"access_token":1,"token_type":"Bearer","expires_in":3,"session_id":"s","user":{"id":1,"username":"u"}}"#,
    );
    assert!(wrong_type.is_err());
    let negative = json::from_str::<TokenResponse>(
        r#"{"access_token":"t","token_type":"Bearer","expires_in":-3,"session_id":"s","user":{"id":1,"username":"u"}}"#,
    );
    assert!(negative.is_err(), "a negative lifetime is not a u64");
}
