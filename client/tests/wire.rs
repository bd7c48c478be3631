//! The wire types without serde (client/src/wire.rs), in Chromium: the server's JSON decodes
//! with its documented field names, what the client writes reads back, and bad input is an
//! error naming the field — never a panic.
#![cfg(target_arch = "wasm32")]

use tokenpair_api::{Credentials, ErrorBody, Me, SessionInfo, TokenResponse, UserSummary};
use tokenpair_client::tabs::TabMessage;
use tokenpair_client::wire::{decode, encode};
use wasm_bindgen_test::*;

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
fn tab_messages_round_trip_and_unknown_ones_are_refused() {
    let token: TokenResponse = decode(TOKEN).unwrap();
    for message in [
        TabMessage::SignedIn {
            response: token.clone(),
        },
        TabMessage::Token { response: token },
        TabMessage::SignedOut {
            user_id: Some(7),
            session_id: Some("s-1".into()),
            everywhere: true,
            session_ended: false,
        },
        TabMessage::SignedOut {
            user_id: None,
            session_id: None,
            everywhere: false,
            session_ended: true,
        },
        TabMessage::SignOutConfirmed { everywhere: true },
    ] {
        let text = encode(&message).expect("encodes");
        let back: TabMessage = decode(&text).expect("decodes");
        assert_eq!(format!("{back:?}"), format!("{message:?}"), "{text}");
    }
    assert!(decode::<TabMessage>(r#"{"type":"launch_missiles"}"#).is_err());
    assert!(decode::<TabMessage>(r#"{"SignedIn":{}}"#).is_err());
}
