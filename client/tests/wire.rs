//! The wire types in the browser without serde (tokenpair-api's `js` codecs, generated from the
//! same field list as the server's serde derives), in Chromium: the server's JSON decodes with
//! its documented field names, what the client writes reads back, bad input is an error naming
//! the field — never a panic — and tokenpair's protocol reads what the server serialises.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use tokenpair_api::js::{parse as decode, stringify};
use tokenpair_api::{Credentials, ErrorBody, Me, SessionInfo, TokenResponse, UserSummary};
use tokenpair_client::{Protocol, Response, TokenpairProtocol, TokenpairSignIn, TokenpairUser};
use wasm_bindgen_test::*;

fn encode<T: tokenpair_api::js::ToJs>(value: &T) -> Option<String> {
    Some(stringify(value))
}

wasm_bindgen_test_configure!(run_in_browser);

const TOKEN: &str = r#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":300,"session_id":"s-1",
    "idle_expires_in":86400,"user":{"id":7,"username":"user1"},"extra":"ignored"}"#;

#[wasm_bindgen_test]
fn a_token_response_decodes_with_optional_fields_missing_or_present() {
    let t: TokenResponse = decode(TOKEN).expect("decodes");
    assert_eq!(t.access_token, "a.b.c");
    assert_eq!(
        (t.expires_in, t.idle_expires_in, t.session_expires_in),
        (300, Some(86400), None)
    );
    assert_eq!(
        t.user,
        UserSummary {
            id: 7,
            username: "user1".into()
        }
    );
    let back: TokenResponse = decode(&encode(&t).expect("encodes")).expect("round trip");
    assert_eq!(back.session_id, "s-1");
    assert_eq!(back.idle_expires_in, Some(86400));
}

#[wasm_bindgen_test]
fn credentials_are_written_with_their_field_names_and_escaped() {
    let text = encode(&Credentials {
        username: "user1".into(),
        password: "pa\"ss".into(),
    })
    .expect("encodes");
    assert_eq!(text, r#"{"username":"user1","password":"pa\"ss"}"#);
}

#[wasm_bindgen_test]
fn the_sessions_list_and_me_decode_and_device_may_be_missing() {
    let list: Vec<SessionInfo> = decode(
        r#"[{"id":"a","created_at":"t1","last_used_at":"t2","expires_at":"t3","user_agent":null,"device":"Chrome on Linux","current":true},
            {"id":"b","created_at":"t1","last_used_at":"t2","expires_at":"t3","current":false}]"#,
    )
    .expect("decodes");
    assert_eq!(list.len(), 2);
    assert_eq!(
        (
            list[0].device.as_str(),
            list[0].current,
            list[0].user_agent.clone()
        ),
        ("Chrome on Linux", true, None)
    );
    assert_eq!(list[1].device, "");
    let me: Me =
        decode(r#"{"id":1,"username":"user1","created_at":"2026-01-01T00:00:00Z"}"#).unwrap();
    assert_eq!(me.id, 1);
}

#[wasm_bindgen_test]
fn bad_input_is_an_error_naming_what_did_not_fit() {
    assert!(decode::<ErrorBody>("<html>502 Bad Gateway</html>").is_err());
    assert!(decode::<ErrorBody>("").is_err());
    assert!(decode::<ErrorBody>("[]").is_err());
    assert!(decode::<ErrorBody>("null").is_err());
    let missing = decode::<ErrorBody>(r#"{"error":"x"}"#).unwrap_err();
    assert!(missing.contains("message"), "{missing}");
    let wrong = decode::<TokenResponse>(&TOKEN.replace("300", "\"300\"")).unwrap_err();
    assert!(wrong.contains("expires_in"), "{wrong}");
    let fraction = decode::<TokenResponse>(&TOKEN.replace("300", "300.5")).unwrap_err();
    assert!(fraction.contains("expires_in"), "{fraction}");
    let negative = decode::<TokenResponse>(&TOKEN.replace("300", "-1")).unwrap_err();
    assert!(negative.contains("expires_in"), "{negative}");
    let nested = decode::<TokenResponse>(&TOKEN.replace(r#""id":7"#, r#""id":"7""#)).unwrap_err();
    assert!(nested.contains("id"), "{nested}");
}

#[wasm_bindgen_test]
fn tokenpairs_protocol_reads_the_token_response_the_server_serialises() {
    // The server's side: serde, from tokenpair-api's own type.
    let sent = TokenResponse {
        access_token: "a.b.c".into(),
        token_type: "Bearer".into(),
        expires_in: 300,
        session_id: "s-9".into(),
        idle_expires_in: Some(1_800),
        session_expires_in: None,
        user: UserSummary {
            id: 7,
            username: "user7".into(),
        },
    };
    let body = serde_json::to_string(&sent).unwrap();
    let grant = TokenpairProtocol::new()
        .read_grant(&Response::new(200, body))
        .expect("reads");
    assert_eq!(grant.access_token, "a.b.c");
    assert_eq!(grant.expires_in, Duration::from_secs(300));
    assert_eq!(grant.session_id.as_deref(), Some("s-9"));
    assert_eq!(grant.idle_expires_in, Some(Duration::from_secs(1_800)));
    assert_eq!(grant.session_expires_in, None);
    assert_eq!(
        grant.user,
        TokenpairUser {
            id: 7,
            username: "user7".into()
        }
    );
}

#[wasm_bindgen_test]
fn tokenpairs_sign_in_request_is_what_the_server_deserialises() {
    let protocol = TokenpairProtocol::new();
    for (sign_in, path) in [
        (
            TokenpairSignIn::password("user1", "pa\"ss"),
            "/api/auth/login",
        ),
        (
            TokenpairSignIn::register("user1", "pa\"ss"),
            "/api/auth/register",
        ),
    ] {
        let request = protocol.sign_in_request(&sign_in);
        assert_eq!(request.url, path);
        let body: Credentials = serde_json::from_str(&request.body_text().unwrap()).unwrap();
        assert_eq!(
            (body.username.as_str(), body.password.as_str()),
            ("user1", "pa\"ss")
        );
    }
}
