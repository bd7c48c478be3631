//! Passkeys (WebAuthn) end to end, adding and signing in: a software authenticator
//! ([`passkey`]) adds passkeys through the real endpoints and signs in with them without a
//! username; every bad answer is refused with 400 `passkey_refused` and changes nothing (each
//! ceremony is single use, on every instance). Managing them, step-up and clones:
//! `passkey_management.rs`. The test servers listen on 127.0.0.1 but are set up as
//! `WEBAUTHN_RP_ID=localhost WEBAUTHN_ORIGIN=http://localhost:8080`, the page the soft browser
//! is on.

mod common;
#[path = "common/passkey.rs"]
mod passkey;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use passkey::*;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn adding_a_passkey_asks_for_a_discoverable_credential_and_the_list_then_shows_it() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    assert!(server.passkeys(&me.access).await.is_empty());

    let options = server.registration_options_ok(&me.access).await;
    let public_key = &options["publicKey"];
    assert_eq!(
        public_key["rp"],
        json!({"name": "tokenpair", "id": "localhost"})
    );
    assert_eq!(public_key["user"]["name"], "user1");
    assert_eq!(public_key["user"]["displayName"], "user1");
    assert_eq!(
        public_key["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(public_key["excludeCredentials"], json!([]));
    assert_eq!(ceremonies(&server).await, 1);

    let mut key = Authenticator::new();
    let credential = key.create(&options);
    let response = server
        .add_passkey(
            &me.access,
            &json!({"name": "  Laptop  ", "credential": credential}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let added: Value = response.json().await.unwrap();
    assert_eq!(added["name"], "Laptop", "trimmed");
    assert_eq!(added["last_used_at"], Value::Null);
    assert_eq!(added["backup_eligible"], false);
    assert_eq!(added["backed_up"], false);
    let mut keys: Vec<&str> = added
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "backed_up",
            "backup_eligible",
            "created_at",
            "id",
            "last_used_at",
            "name"
        ]
    );
    assert_eq!(ceremonies(&server).await, 0, "the ceremony is used up");
    assert_eq!(server.passkeys(&me.access).await, vec![added.clone()]);
    assert_eq!(
        events(&server, "passkey_added").await,
        [Some("Laptop".into())]
    );
    let credential_id = server
        .db()
        .text("SELECT credential_id FROM passkeys", None)
        .await
        .unwrap();
    assert_eq!(json!(credential_id), credential["id"]);

    // The next registration leaves out the passkey the user has; a missing name is "Passkey";
    // the list is oldest first.
    let options = server.registration_options_ok(&me.access).await;
    assert_eq!(
        options["publicKey"]["excludeCredentials"][0]["id"],
        json!(credential_id)
    );
    assert_eq!(
        options["publicKey"]["user"]["id"], public_key["user"]["id"],
        "one user handle per user"
    );
    let mut phone = Authenticator::new();
    let credential = phone.create(&options);
    let response = server
        .add_passkey(&me.access, &json!({"credential": credential}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let listed = server.passkeys(&me.access).await;
    let names: Vec<&str> = listed.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Laptop", "Passkey"]);
    // Someone else's list is their own.
    let other = server.session(USER2_ID).await;
    assert!(server.passkeys(&other.access).await.is_empty());
}

#[tokio::test]
async fn signing_in_with_a_passkey_answers_as_login_does_with_amr_hwk_user_and_the_session_refreshes(
) {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let mut key = Authenticator::new();
    let added = server
        .register_passkey(&me.access, &mut key, "Laptop")
        .await;

    let options = server.passkey_options().await;
    assert_eq!(options["mediation"], "conditional");
    assert_eq!(options["publicKey"]["rpId"], "localhost");
    assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let sessions_before = server.db().count("SELECT COUNT(*) FROM sessions").await;

    let response = server.passkey_sign_in(&key.get(&options)).await;
    let signed_in = granted(response, StatusCode::OK).await;
    signed_in.cookie.assert_refresh_cookie_attributes();
    assert!(
        set_cookies(&signed_in.headers)
            .iter()
            .any(|c| c.name == "device"),
        "the device cookie, as login sets it"
    );
    assert_eq!(signed_in.body["token_type"], "Bearer");
    assert_eq!(
        signed_in.body["user"],
        json!({"id": 1, "username": "user1"})
    );
    let claims = claims_of(&signed_in.tokens.access);
    assert_eq!(claims["amr"], json!(["hwk", "user"]));
    assert!(claims["auth_time"].as_u64().unwrap() >= now() - 5);
    assert_eq!(
        server.db().count("SELECT COUNT(*) FROM sessions").await,
        sessions_before + 1
    );
    server
        .assert_access_works(&signed_in.tokens.access, USER1_ID)
        .await;
    let refreshed = server.refresh_ok(&signed_in.tokens.refresh).await;
    assert_eq!(claims_of(&refreshed.access)["amr"], json!(["hwk", "user"]));

    // The counter and the last use are stored; the sign-in is one event.
    assert_eq!(server.db().count("SELECT counter FROM passkeys").await, 1);
    let listed = server.passkeys(&me.access).await;
    assert_eq!(listed[0]["id"], added["id"]);
    assert!(listed[0]["last_used_at"].is_string());
    assert_eq!(events(&server, "signed_in_with_passkey").await.len(), 1);
    let signed_in_events = server
        .db()
        .count(&format!(
            "SELECT COUNT(*) FROM security_events WHERE kind = 'signed_in' AND session_id = '{}'",
            signed_in.tokens.sid
        ))
        .await;
    assert_eq!(signed_in_events, 0);

    // And again: the counter goes up.
    let options = server.passkey_options().await;
    granted(
        server.passkey_sign_in(&key.get(&options)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(server.db().count("SELECT counter FROM passkeys").await, 2);
}

#[tokio::test]
async fn the_options_take_no_body_or_an_empty_object_and_nothing_else() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    for body in ["", "{}", "  {\"ignored\": 1} "] {
        let response = server
            .auth_post("/api/auth/passkey/options")
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{body:?}");
        let response = server
            .auth_post("/api/passkeys/registration/options")
            .bearer_auth(&me.access)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{body:?}");
    }
    for body in ["{", "[]", "\"x\""] {
        let response = server
            .auth_post("/api/auth/passkey/options")
            .body(body)
            .send()
            .await
            .unwrap();
        expect_error(response, StatusCode::BAD_REQUEST, "bad_request").await;
    }
    // Without the CSRF header: refused before anything is started.
    let before = ceremonies(&server).await;
    let response = server
        .client
        .post(server.url("/api/auth/passkey/options"))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::FORBIDDEN, "csrf_rejected").await;
    assert_eq!(ceremonies(&server).await, before);
}

#[tokio::test]
async fn on_localhost_a_page_on_any_port_may_use_the_passkeys_but_not_another_scheme_or_host() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let mut key = Authenticator::new();
    server
        .register_passkey(&me.access, &mut key, "Laptop")
        .await;
    // `trunk serve` on :8081 in front of the server on :8080.
    let options = server.passkey_options().await;
    let answer = key.get_as(&options, "http://localhost:8081", RP_ID);
    granted(server.passkey_sign_in(&answer).await, StatusCode::OK).await;
    for origin in [
        "https://localhost:8080",
        "http://127.0.0.1:8080",
        "http://app.localhost:8080",
    ] {
        let options = server.passkey_options().await;
        let answer = key.get_as(&options, origin, RP_ID);
        expect_error(
            server.passkey_sign_in(&answer).await,
            StatusCode::BAD_REQUEST,
            "passkey_refused",
        )
        .await;
    }
}

#[tokio::test]
async fn a_dpop_proof_binds_the_passkey_sign_in_session_to_its_key() {
    use tokenpair_testkit::dpop::ProofKey;
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let mut key = Authenticator::new();
    server
        .register_passkey(&me.access, &mut key, "Laptop")
        .await;

    let proof_key = ProofKey::ed25519();
    let url = server.url("/api/auth/passkey");
    let options = server.passkey_options().await;
    let response = server
        .auth_post("/api/auth/passkey")
        .header("DPoP", proof_key.proof("POST", &url, None, None))
        .json(&json!({"credential": key.get(&options)}))
        .send()
        .await
        .unwrap();
    let signed_in = granted(response, StatusCode::OK).await;
    assert_eq!(signed_in.body["token_type"], "DPoP");
    let claims = claims_of(&signed_in.tokens.access);
    assert_eq!(claims["cnf"]["jkt"], json!(proof_key.jkt()));
    assert_eq!(claims["amr"], json!(["hwk", "user"]));

    // A proof for another URL: refused before the passkey is looked at (its ceremony stays).
    let options = server.passkey_options().await;
    let response = server
        .auth_post("/api/auth/passkey")
        .header(
            "DPoP",
            proof_key.proof("POST", &server.url("/api/auth/login"), None, None),
        )
        .json(&json!({"credential": key.get(&options)}))
        .send()
        .await
        .unwrap();
    expect_error(response, StatusCode::BAD_REQUEST, "invalid_dpop_proof").await;
    assert_eq!(ceremonies(&server).await, 1);
}

#[tokio::test]
async fn every_bad_answer_is_refused_with_passkey_refused_and_changes_nothing() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let mut key = Authenticator::new();
    server
        .register_passkey(&me.access, &mut key, "Laptop")
        .await;
    // user2 has a passkey too (so their user handle exists).
    let other = server.session(USER2_ID).await;
    let mut other_key = Authenticator::new();
    server
        .register_passkey(&other.access, &mut other_key, "Theirs")
        .await;
    let before = snapshot(&server).await;

    // Not JSON at all: the API's usual 400 bad_request.
    expect_error(
        server.passkey_sign_in_raw("{\"credential\": ").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    )
    .await;
    // JSON, but no credential.
    for body in [
        "{}",
        "[1]",
        "{\"credential\": {\"id\": 1}}",
        "{\"credential\": \"x\"}",
    ] {
        let response = server.passkey_sign_in_raw(body).await;
        expect_error(response, StatusCode::BAD_REQUEST, "passkey_refused").await;
    }

    let mut cases: Vec<(&str, Value)> = Vec::new();
    const UNKNOWN: &str = "This passkey is not registered with any account here.";
    // Each answer, with what people are told. A challenge this server never gave:
    let mut options = server.passkey_options().await;
    options["publicKey"]["challenge"] = json!("bm90LWEtY2hhbGxlbmdlLW9mLXRoaXMtc2VydmVy");
    cases.push((
        "This passkey prompt was already used or has expired: try again.",
        key.get(&options),
    ));
    // Signed for a page of another origin (a phishing page relaying the options).
    let options = server.passkey_options().await;
    cases.push((
        "The passkey answered a page of another origin.",
        key.get_as(&options, "https://evil.example", RP_ID),
    ));
    // Signed for another relying party, at the right origin.
    let options = server.passkey_options().await;
    cases.push((
        "The passkey was made for another website (relying party).",
        key.get_as(&options, ORIGIN, "example.com"),
    ));
    // A bit of the signature flipped.
    let options = server.passkey_options().await;
    let mut tampered = key.get(&options);
    let mut signature = URL_SAFE_NO_PAD
        .decode(tampered["response"]["signature"].as_str().unwrap())
        .unwrap();
    let n = signature.len();
    signature[n - 3] ^= 1;
    tampered["response"]["signature"] = json!(URL_SAFE_NO_PAD.encode(signature));
    cases.push(("The passkey's signature does not verify.", tampered));
    // A credential this server has never registered (made, but never sent).
    let mut stranger = Authenticator::new();
    let options = server.registration_options_ok(&me.access).await;
    stranger.create(&options);
    let options = server.passkey_options().await;
    cases.push((UNKNOWN, stranger.get(&options)));
    // user1's credential claiming to be user2's (the user handle is not signed).
    let options = server.passkey_options().await;
    let mut swapped = key.get(&options);
    swapped["response"]["userHandle"] =
        other_key.get(&server.passkey_options().await)["response"]["userHandle"].clone();
    cases.push((UNKNOWN, swapped));
    // No user handle at all.
    let options = server.passkey_options().await;
    let mut anonymous = key.get(&options);
    anonymous["response"]
        .as_object_mut()
        .unwrap()
        .remove("userHandle");
    cases.push((UNKNOWN, anonymous));

    for (why, credential) in &cases {
        let response = server.passkey_sign_in(credential).await;
        let error = expect_error(response, StatusCode::BAD_REQUEST, "passkey_refused").await;
        assert_eq!(&error.message, why);
    }
    // The registration options and other_key's extra options were never answered; every
    // answered ceremony is gone.
    assert_eq!(snapshot(&server).await.0, before.0, "no session");
    assert_eq!(snapshot(&server).await.1, before.1, "no passkey");
    assert_eq!(snapshot(&server).await.2, before.2, "no counter moved");

    // Each refused answer used its ceremony up: the same answer again is refused too.
    let options = server.passkey_options().await;
    let good = key.get(&options);
    let wrong_origin = key.get_as(&options, "https://evil.example", RP_ID);
    expect_error(
        server.passkey_sign_in(&wrong_origin).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    let error = expect_error(
        server.passkey_sign_in(&good).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    assert!(
        error.message.contains("already used or has expired"),
        "{}",
        error.message
    );

    // A replayed good answer: once only.
    let options = server.passkey_options().await;
    let good = key.get(&options);
    granted(server.passkey_sign_in(&good).await, StatusCode::OK).await;
    let after_one = snapshot(&server).await;
    expect_error(
        server.passkey_sign_in(&good).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    assert_eq!(snapshot(&server).await, after_one);
}

#[tokio::test]
async fn a_bad_registration_is_refused_and_adds_nothing() {
    let server = server().await;
    let me = server.session(USER1_ID).await;
    let add = |body: Value| {
        let server = &server;
        let access = me.access.clone();
        async move { server.add_passkey(&access, &body).await }
    };

    // Not a credential; no credential.
    for body in [
        json!({}),
        json!({"name": "x"}),
        json!({"credential": {"id": "AAAA"}}),
        json!([1]),
    ] {
        expect_error(add(body).await, StatusCode::BAD_REQUEST, "passkey_refused").await;
    }
    // A name that breaks the rules: refused before the ceremony is touched.
    let options = server.registration_options_ok(&me.access).await;
    let mut key = Authenticator::new();
    let credential = key.create(&options);
    for name in [json!("x".repeat(65)), json!("a\u{0007}b"), json!(5)] {
        expect_error(
            add(json!({"name": name, "credential": credential})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
    }
    assert_eq!(ceremonies(&server).await, 1);
    // Made at another origin.
    let options = server.registration_options_ok(&me.access).await;
    let mut ccr: webauthn_rs::prelude::CreationChallengeResponse =
        serde_json::from_value(options).unwrap();
    ccr.public_key
        .authenticator_selection
        .as_mut()
        .unwrap()
        .require_resident_key = false;
    let at_evil = webauthn_authenticator_rs::AuthenticatorBackend::perform_register(
        &mut key.key,
        webauthn_rs::prelude::Url::parse("https://evil.example").unwrap(),
        ccr.public_key,
        60_000,
    )
    .unwrap();
    expect_error(
        add(json!({"credential": to_json(&at_evil)})).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    // Without user verification.
    let options = server.registration_options_ok(&me.access).await;
    let unverified = create_without_user_verification(&options);
    expect_error(
        add(json!({"credential": unverified})).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    // Answering user2's ceremony with user1's token.
    let other = server.session(USER2_ID).await;
    let options = server.registration_options_ok(&other.access).await;
    let credential = Authenticator::new().create(&options);
    expect_error(
        add(json!({"credential": credential})).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    assert_eq!(server.db().count("SELECT COUNT(*) FROM passkeys").await, 0);
    assert!(events(&server, "passkey_added").await.is_empty());

    // A credential another account already holds: refused, this one adds nothing.
    let options = server.registration_options_ok(&me.access).await;
    let mut key = Authenticator::new();
    let credential = key.create(&options);
    sqlx::query(
        "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, counter,
                               backup_eligible, backed_up, created_at)
         VALUES ('AAAAAAAAAAAAAAAAAAAAAA', 2, $1, 'Theirs', '{}', 0, 0, 0, 0)",
    )
    .bind(credential["id"].as_str().unwrap().to_owned())
    .execute(&server.state.db.pool)
    .await
    .unwrap();
    let error = expect_error(
        add(json!({"credential": credential})).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    assert_eq!(error.message, "This passkey is already registered.");
    assert_eq!(server.db().count("SELECT COUNT(*) FROM passkeys").await, 1);
    assert!(events(&server, "passkey_added").await.is_empty());
}

#[tokio::test]
async fn a_challenge_is_single_use_across_instances() {
    let a = server().await;
    let b = start_beside(&a).await;
    let me = a.session(USER1_ID).await;
    let mut key = Authenticator::new();
    a.register_passkey(&me.access, &mut key, "Laptop").await;

    // Started on one instance, finished on the other.
    let options = a.passkey_options().await;
    let answer = key.get(&options);
    granted(b.passkey_sign_in(&answer).await, StatusCode::OK).await;
    // The same answer again, on either: refused.
    for server in [&a, &b] {
        expect_error(
            server.passkey_sign_in(&answer).await,
            StatusCode::BAD_REQUEST,
            "passkey_refused",
        )
        .await;
    }
    // A refused answer on one instance used the ceremony up for the other too.
    let options = b.passkey_options().await;
    let good = key.get(&options);
    let evil = key.get_as(&options, "https://evil.example", RP_ID);
    expect_error(
        b.passkey_sign_in(&evil).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    expect_error(
        a.passkey_sign_in(&good).await,
        StatusCode::BAD_REQUEST,
        "passkey_refused",
    )
    .await;
    // A registration started on one, finished on the other.
    let options = a.registration_options_ok(&me.access).await;
    let credential = Authenticator::new().create(&options);
    let response = b
        .add_passkey(
            &me.access,
            &json!({"name": "Phone", "credential": credential}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let again = a
        .add_passkey(
            &me.access,
            &json!({"name": "Phone", "credential": credential}),
        )
        .await;
    expect_error(again, StatusCode::BAD_REQUEST, "passkey_refused").await;
    assert_eq!(a.db().count("SELECT COUNT(*) FROM passkeys").await, 2);
}
