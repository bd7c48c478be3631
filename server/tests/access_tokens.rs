//! Access tokens (checklist 1-7): one algorithm, a strong key, checked claims, explicit typing,
//! `kid` from a fixed map, revocation before `exp`, and RFC 6750 401s.
//!
//! Each forged token is a genuine one (`forge`) with exactly one thing changed, and
//! `a_forged_token_with_every_field_right_is_accepted` proves the genuine one passes — so every
//! refusal below is caused by the one change.

mod common;

use common::*;
use serde_json::{json, Value};

/// A server and a live session of user1 to aim forged tokens at.
async fn server_and_session() -> (TestServer, Tokens) {
    let server = start().await;
    let session = server.session(USER1_ID).await;
    (server, session)
}

#[tokio::test]
async fn an_access_token_from_sign_in_opens_api_me_and_has_the_rfc_9068_shape() {
    let server = start().await;
    let tokens = server.login(USER1).await;
    server.assert_access_works(&tokens.access, USER1_ID).await;

    let header = header_of(&tokens.access);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["kid"], json!(kid()));
    let claims = claims_of(&tokens.access);
    for claim in ["iss", "aud", "sub", "sid", "jti", "iat", "exp"] {
        assert!(claims.get(claim).is_some(), "claim {claim} in {claims}");
    }
    assert_eq!(claims["iss"], "tokenpair");
    assert_eq!(claims["aud"], "tokenpair-api");
    assert_eq!(claims["sub"], "1");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
}

#[tokio::test]
async fn a_forged_token_with_every_field_right_is_accepted() {
    let (server, session) = server_and_session().await;
    server
        .assert_access_works(&forge(&session.sid, USER1_ID), USER1_ID)
        .await;
}

#[tokio::test]
async fn alg_none_is_rejected_with_or_without_a_signature() {
    let (server, session) = server_and_session().await;
    let claims = good_claims(&session.sid, USER1_ID);
    for alg in ["none", "None", "NONE"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": kid() });
        let unsigned = format!("{}.", signing_input(&header, &claims));
        expect_invalid_token(server.me(&unsigned).await).await;
        let signed = sign_hs256(&header, &claims, SECRET);
        expect_invalid_token(server.me(&signed).await).await;
    }
}

#[tokio::test]
async fn other_hmac_algorithms_with_the_right_key_are_rejected() {
    let (server, session) = server_and_session().await;
    let claims = good_claims(&session.sid, USER1_ID);
    let hs384 = sign_hs384(
        &json!({ "alg": "HS384", "typ": "at+jwt", "kid": kid() }),
        &claims,
        SECRET,
    );
    expect_invalid_token(server.me(&hs384).await).await;
    let hs512 = sign_hs512(
        &json!({ "alg": "HS512", "typ": "at+jwt", "kid": kid() }),
        &claims,
        SECRET,
    );
    expect_invalid_token(server.me(&hs512).await).await;
}

#[tokio::test]
async fn asymmetric_algorithm_headers_are_rejected_hs_rs_confusion() {
    // The classic confusion: claim RS256 (or another public-key alg) and "sign" with the
    // verification key as an HMAC secret. Only HS256 is ever accepted.
    let (server, session) = server_and_session().await;
    let claims = good_claims(&session.sid, USER1_ID);
    for alg in ["RS256", "RS512", "PS256", "ES256", "ES384", "EdDSA"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": kid() });
        let token = sign_hs256(&header, &claims, SECRET);
        expect_invalid_token(server.me(&token).await).await;
    }
}

#[tokio::test]
async fn a_tampered_payload_is_rejected() {
    let (server, session) = server_and_session().await;
    let genuine = forge(&session.sid, USER1_ID);
    let signature = genuine.rsplit('.').next().unwrap();
    // Same signature, payload now says user 2.
    let tampered_claims = good_claims(&session.sid, USER2_ID);
    let tampered = format!(
        "{}.{signature}",
        signing_input(&good_header(), &tampered_claims)
    );
    expect_invalid_token(server.me(&tampered).await).await;
}

#[tokio::test]
async fn a_tampered_or_missing_signature_is_rejected() {
    let (server, session) = server_and_session().await;
    let genuine = forge(&session.sid, USER1_ID);
    let (input, signature) = genuine.rsplit_once('.').unwrap();
    let mut flipped: Vec<u8> = signature.bytes().collect();
    flipped[0] = if flipped[0] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{input}.{}", String::from_utf8(flipped).unwrap());
    expect_invalid_token(server.me(&tampered).await).await;
    expect_invalid_token(server.me(&format!("{input}.")).await).await;
    // Signed with another key of the same length.
    let other_key = sign_hs256(
        &good_header(),
        &good_claims(&session.sid, USER1_ID),
        &[7u8; 48],
    );
    expect_invalid_token(server.me(&other_key).await).await;
}

#[tokio::test]
async fn an_expired_token_is_rejected_and_says_so() {
    let (server, session) = server_and_session().await;
    let mut claims = good_claims(&session.sid, USER1_ID);
    claims["iat"] = json!(now() - 400);
    claims["exp"] = json!(now() - 100);
    let token = sign_hs256(&good_header(), &claims, SECRET);
    let err = expect_invalid_token(server.me(&token).await).await;
    assert!(err.message.contains("expired"), "{}", err.message);
}

#[tokio::test]
async fn a_token_that_is_not_yet_valid_nbf_in_the_future_is_rejected() {
    let (server, session) = server_and_session().await;
    let mut claims = good_claims(&session.sid, USER1_ID);
    claims["nbf"] = json!(now() + 120);
    expect_invalid_token(
        server
            .me(&sign_hs256(&good_header(), &claims, SECRET))
            .await,
    )
    .await;
}

/// The genuine claims with one claim replaced (`Value::Null` removes it).
fn claims_with(sid: &str, name: &str, value: Value) -> Value {
    let mut claims = good_claims(sid, USER1_ID);
    let obj = claims.as_object_mut().unwrap();
    if value.is_null() {
        obj.remove(name);
    } else {
        obj.insert(name.into(), value);
    }
    claims
}

#[tokio::test]
async fn a_wrong_or_missing_issuer_is_rejected() {
    let (server, session) = server_and_session().await;
    for iss in [
        json!("someone-else"),
        json!("TOKENPAIR"),
        json!(["tokenpair"]),
        Value::Null,
    ] {
        let token = sign_hs256(
            &good_header(),
            &claims_with(&session.sid, "iss", iss.clone()),
            SECRET,
        );
        expect_invalid_token(server.me(&token).await).await;
    }
}

#[tokio::test]
async fn a_wrong_or_missing_audience_is_rejected() {
    let (server, session) = server_and_session().await;
    for aud in [
        json!("another-api"),
        json!(["another-api"]),
        json!([]),
        Value::Null,
    ] {
        let token = sign_hs256(
            &good_header(),
            &claims_with(&session.sid, "aud", aud.clone()),
            SECRET,
        );
        expect_invalid_token(server.me(&token).await).await;
    }
}

#[tokio::test]
async fn a_token_without_exp_or_sub_is_rejected() {
    let (server, session) = server_and_session().await;
    for claim in ["exp", "sub", "sid"] {
        let token = sign_hs256(
            &good_header(),
            &claims_with(&session.sid, claim, Value::Null),
            SECRET,
        );
        expect_invalid_token(server.me(&token).await).await;
    }
    let not_a_user = sign_hs256(
        &good_header(),
        &claims_with(&session.sid, "sub", json!("admin")),
        SECRET,
    );
    expect_invalid_token(server.me(&not_a_user).await).await;
}

#[tokio::test]
async fn a_wrong_or_missing_typ_is_rejected() {
    let (server, session) = server_and_session().await;
    let claims = good_claims(&session.sid, USER1_ID);
    for typ in [
        json!("JWT"),
        json!("refresh+jwt"),
        json!("at+jwt "),
        Value::Null,
    ] {
        let mut header = good_header();
        if typ.is_null() {
            header.as_object_mut().unwrap().remove("typ");
        } else {
            header["typ"] = typ.clone();
        }
        let err =
            expect_invalid_token(server.me(&sign_hs256(&header, &claims, SECRET)).await).await;
        assert!(err.message.contains("type"), "typ {typ}: {}", err.message);
    }
}

#[tokio::test]
async fn an_unknown_or_missing_kid_is_rejected() {
    let (server, session) = server_and_session().await;
    let claims = good_claims(&session.sid, USER1_ID);
    for kid in [
        json!("hs256-0000000000000000"),
        json!("../../etc/passwd"),
        Value::Null,
    ] {
        let mut header = good_header();
        if kid.is_null() {
            header.as_object_mut().unwrap().remove("kid");
        } else {
            header["kid"] = kid.clone();
        }
        let err =
            expect_invalid_token(server.me(&sign_hs256(&header, &claims, SECRET)).await).await;
        assert!(
            err.message.contains("unknown key"),
            "kid {kid}: {}",
            err.message
        );
    }
}

#[tokio::test]
async fn jku_x5u_x5c_and_jwk_headers_are_never_trusted() {
    // Even with a known kid and a correct signature: a token that points at its own key is refused.
    let (server, session) = server_and_session().await;
    let claims = good_claims(&session.sid, USER1_ID);
    let jwk = json!({ "kty": "oct", "k": b64(SECRET) });
    for (name, value) in [
        ("jku", json!("https://evil.example/jwks.json")),
        ("x5u", json!("https://evil.example/cert.pem")),
        ("jwk", jwk),
        ("x5c", json!(["MIIBszCCAVmgAwIBAgIU"])),
    ] {
        let mut header = good_header();
        header[name] = value;
        expect_invalid_token(server.me(&sign_hs256(&header, &claims, SECRET)).await).await;
    }
}

#[tokio::test]
async fn leeway_is_explicit_a_token_3s_past_exp_passes_with_5s_leeway_and_8s_past_does_not() {
    let server =
        start_with(|c| c.tokens.access_token_leeway = std::time::Duration::from_secs(5)).await;
    let session = server.session(USER1_ID).await;
    let at = |exp: u64| {
        let mut claims = good_claims(&session.sid, USER1_ID);
        claims["iat"] = json!(exp - 300);
        claims["exp"] = json!(exp);
        sign_hs256(&good_header(), &claims, SECRET)
    };
    server.assert_access_works(&at(now() - 3), USER1_ID).await;
    expect_invalid_token(server.me(&at(now() - 8)).await).await;
}

#[tokio::test]
async fn without_configured_leeway_a_token_1s_past_exp_is_rejected() {
    // The default is 0 s, not jsonwebtoken's 60 s.
    let (server, session) = server_and_session().await;
    let mut claims = good_claims(&session.sid, USER1_ID);
    claims["exp"] = json!(now() - 2);
    expect_invalid_token(
        server
            .me(&sign_hs256(&good_header(), &claims, SECRET))
            .await,
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_is_not_accepted_as_a_bearer_token() {
    let server = start().await;
    let tokens = server.login(USER1).await;
    expect_invalid_token(server.me(&tokens.refresh).await).await;
    let sessions = server
        .get_bearer("/api/sessions", &tokens.refresh)
        .send()
        .await
        .unwrap();
    expect_invalid_token(sessions).await;
}

#[tokio::test]
async fn an_access_token_is_not_accepted_as_the_refresh_cookie() {
    let server = start().await;
    let tokens = server.login(USER1).await;
    expect_refresh_refused(
        server.refresh(&tokens.access).await,
        "invalid_refresh_token",
    )
    .await;
    // The session itself is untouched: its real refresh token still rotates.
    server.refresh_ok(&tokens.refresh).await;
}

#[tokio::test]
async fn every_401_of_every_bearer_route_carries_the_rfc_6750_challenge_and_a_json_body() {
    let (server, session) = server_and_session().await;
    let bad = sign_hs256(
        &good_header(),
        &good_claims(&session.sid, USER1_ID),
        b"not-the-key-not-the-key-not-the-key",
    );
    for (method, path) in [
        (reqwest::Method::GET, "/api/me"),
        (reqwest::Method::GET, "/api/sessions"),
        (
            reqwest::Method::DELETE,
            &format!("/api/sessions/{}", session.sid),
        ),
    ] {
        let no_header = server
            .client
            .request(method.clone(), server.url(path))
            .send()
            .await
            .unwrap();
        expect_invalid_token(no_header).await;
        let bad_token = server
            .client
            .request(method.clone(), server.url(path))
            .bearer_auth(&bad)
            .send()
            .await
            .unwrap();
        expect_invalid_token(bad_token).await;
    }
    // The session was not revoked by the refused DELETE.
    server.assert_access_works(&session.access, USER1_ID).await;
}

#[tokio::test]
async fn logout_ends_access_at_once_even_before_exp() {
    let server = start().await;
    let tokens = server.login(USER1).await;
    server.assert_access_works(&tokens.access, USER1_ID).await;
    assert_eq!(server.logout(&tokens.refresh).await.status(), 204);
    let err = expect_invalid_token(server.me(&tokens.access).await).await;
    assert!(err.message.contains("session"), "{}", err.message);
    // A token forged for the same session (same key, fresh exp) is refused too: it is the
    // session that is dead, not just the one token.
    expect_invalid_token(server.me(&forge(&tokens.sid, USER1_ID)).await).await;
}

#[tokio::test]
async fn revoking_a_session_from_the_sessions_list_ends_its_access_at_once() {
    let server = start().await;
    let laptop = server.session(USER1_ID).await;
    let phone = server.session(USER1_ID).await;
    let response = server
        .client
        .delete(server.url(&format!("/api/sessions/{}", phone.sid)))
        .bearer_auth(&laptop.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    expect_invalid_token(server.me(&phone.access).await).await;
    server.assert_access_works(&laptop.access, USER1_ID).await;
}

#[tokio::test]
async fn global_logout_ends_access_of_every_session_of_the_user_only() {
    let server = start().await;
    let a = server.session(USER1_ID).await;
    let b = server.session(USER1_ID).await;
    let other_user = server.session(USER2_ID).await;
    let response = server
        .auth_post("/api/auth/logout?scope=global")
        .header("cookie", format!("__Secure-refresh_token={}", a.refresh))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    expect_invalid_token(server.me(&a.access).await).await;
    expect_invalid_token(server.me(&b.access).await).await;
    server
        .assert_access_works(&other_user.access, USER2_ID)
        .await;
}

#[tokio::test]
async fn the_previous_key_still_verifies_after_key_rotation_and_new_tokens_use_the_new_kid() {
    let server = start().await;
    let session = server.session(USER1_ID).await;
    let new_secret = b"the-next-secret-of-the-test-suite-0123456789".to_vec();
    let server = server
        .restart_with(|c| {
            c.tokens.access_token_previous_secret = c.tokens.access_token_secret.take();
            c.tokens.access_token_secret = Some(new_secret.clone());
        })
        .await;
    server.assert_access_works(&session.access, USER1_ID).await;
    let rotated = server.refresh_ok(&session.refresh).await;
    assert_eq!(
        header_of(&rotated.access)["kid"],
        json!(tokenpair_server::tokens::key_id(&new_secret))
    );
    server.assert_access_works(&rotated.access, USER1_ID).await;

    // Once the old key is dropped from the configuration, its tokens are unknown.
    let server = server
        .restart_with(|c| c.tokens.access_token_previous_secret = None)
        .await;
    let err = expect_invalid_token(server.me(&session.access).await).await;
    assert!(err.message.contains("unknown key"), "{}", err.message);
}

/// A token signed with the real key (a leaked one, say) cannot carry a lifetime of its own
/// choosing: `exp − iat` beyond `ACCESS_TOKEN_EXPIRY` (+ leeway) is refused, and so is an
/// `iat` in the future (which would stretch `exp` unnoticed).
#[tokio::test]
async fn a_token_claiming_a_longer_lifetime_or_a_future_issue_time_is_refused() {
    let (server, session) = server_and_session().await;
    let now = now();
    let with = |iat: u64, exp: u64| {
        let mut claims = good_claims(&session.sid, USER1_ID);
        claims["iat"] = json!(iat);
        claims["exp"] = json!(exp);
        sign_hs256(&good_header(), &claims, SECRET)
    };
    // The configured lifetime (300 s) is fine, issued now or a moment ago.
    server
        .assert_access_works(&with(now, now + 300), USER1_ID)
        .await;
    server
        .assert_access_works(&with(now - 100, now + 200), USER1_ID)
        .await;
    // A year-long token, issued now.
    expect_invalid_token(server.me(&with(now, now + 365 * 86_400)).await).await;
    // One second more than the lifetime.
    expect_invalid_token(server.me(&with(now, now + 301)).await).await;
    // Issued ten minutes from now, lifetime as configured.
    expect_invalid_token(server.me(&with(now + 600, now + 900)).await).await;
}
