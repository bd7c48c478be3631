//! A software passkey and the browser around it, for the passkey tests: webauthn-authenticator-rs'
//! `SoftPasskey` (or `SoftToken`, which can be copied to make a cloned authenticator) behind its
//! `WebauthnAuthenticator` client (which writes the `clientDataJSON` with the page's origin and
//! checks it against the relying party id, as a browser does). What it answers is reshaped into
//! a browser's `credential.toJSON()` before it is posted.
//!
//! The soft keys make no resident (discoverable) credentials: for a usernameless sign-in the
//! test tells the key which credential to use (`allowCredentials`) and adds the `userHandle` a
//! real passkey would return — neither is covered by the signature.
//!
//! Not in `common/mod.rs` (every test binary would link the authenticator and OpenSSL): a test
//! that needs it declares `#[path = "common/passkey.rs"] mod passkey;` after `mod common;`.

// Two test binaries use it, each only part of it.
#![allow(dead_code)]

use reqwest::{header, Response, StatusCode};
use serde_json::{json, Value};
use tokenpair_server::passkeys::RelyingParty;
use tokenpair_server::Config;
use webauthn_authenticator_rs::error::WebauthnCError;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::softtoken::SoftToken;
use webauthn_authenticator_rs::{AuthenticatorBackend, WebauthnAuthenticator};
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url,
};
use webauthn_rs_proto::{
    AllowCredentials, PublicKeyCredentialCreationOptions, PublicKeyCredentialRequestOptions,
    UserVerificationPolicy,
};

use crate::common::{start_with, TestServer, XRW};

/// The relying party of the passkey tests: the page is at http://localhost:8080, whatever
/// socket the test server listens on (the server never looks at that).
pub const RP_ID: &str = "localhost";
pub const ORIGIN: &str = "http://localhost:8080";

/// `WEBAUTHN_RP_ID=localhost WEBAUTHN_ORIGIN=http://localhost:8080`.
pub fn passkeys_on_localhost(config: &mut Config) {
    config.passkeys =
        RelyingParty::resolve(Some(RP_ID), Some(ORIGIN), ORIGIN, &[]).expect("a relying party");
}

/// `WebauthnAuthenticator` takes its backend by value and never gives it back: this lends it
/// one, so a key lives through several ceremonies.
struct Lend<'a, K: AuthenticatorBackend>(&'a mut K);

impl<K: AuthenticatorBackend> AuthenticatorBackend for Lend<'_, K> {
    fn perform_register(
        &mut self,
        origin: Url,
        options: PublicKeyCredentialCreationOptions,
        timeout_ms: u32,
    ) -> Result<RegisterPublicKeyCredential, WebauthnCError> {
        self.0.perform_register(origin, options, timeout_ms)
    }

    fn perform_auth(
        &mut self,
        origin: Url,
        options: PublicKeyCredentialRequestOptions,
        timeout_ms: u32,
    ) -> Result<PublicKeyCredential, WebauthnCError> {
        self.0.perform_auth(origin, options, timeout_ms)
    }
}

/// One authenticator with (after [`Authenticator::create`]) one credential.
pub struct Authenticator<K: AuthenticatorBackend = SoftPasskey> {
    pub key: K,
    /// The credential it made: its raw id.
    pub credential: Option<Vec<u8>>,
    /// The user handle the server gave it (`user.id` of the creation options).
    pub user_handle: Option<Vec<u8>>,
}

impl Authenticator<SoftPasskey> {
    /// A soft passkey that verifies the user (passkeys always ask for it).
    pub fn new() -> Self {
        Authenticator::with(SoftPasskey::new(true))
    }
}

impl Authenticator<SoftToken> {
    /// A soft token: it can be copied ([`Authenticator::copy`]).
    pub fn token() -> Self {
        let (token, _ca) = SoftToken::new(true).expect("a soft token");
        Authenticator::with(token)
    }

    /// Another authenticator with the same keys and counter: a cloned one.
    pub fn copy(&self) -> Self {
        let bytes = self.key.to_cbor().expect("serialise the token");
        Authenticator {
            key: SoftToken::from_cbor(&bytes).expect("read the token back"),
            credential: self.credential.clone(),
            user_handle: self.user_handle.clone(),
        }
    }
}

impl<K: AuthenticatorBackend> Authenticator<K> {
    pub fn with(key: K) -> Self {
        Authenticator {
            key,
            credential: None,
            user_handle: None,
        }
    }

    /// `navigator.credentials.create({publicKey})` at [`ORIGIN`] with the server's options →
    /// the body's `credential`. Checks the server asked for a discoverable credential (which
    /// the soft key cannot make: it makes a plain one).
    pub fn create(&mut self, options: &Value) -> Value {
        let selection = &options["publicKey"]["authenticatorSelection"];
        assert_eq!(selection["residentKey"], "required", "{options}");
        assert_eq!(selection["requireResidentKey"], true, "{options}");
        let mut ccr: CreationChallengeResponse =
            serde_json::from_value(options.clone()).expect("creation options");
        if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = false;
        }
        self.user_handle = Some(ccr.public_key.user.id.as_ref().to_vec());
        let credential = WebauthnAuthenticator::new(Lend(&mut self.key))
            .do_registration(Url::parse(ORIGIN).expect("origin"), ccr)
            .expect("the authenticator registers");
        self.credential = Some(credential.raw_id.as_ref().to_vec());
        to_json(&credential)
    }

    /// `navigator.credentials.get({publicKey})` at [`ORIGIN`] with the server's options → the
    /// body's `credential`, with this authenticator's `userHandle`.
    pub fn get(&mut self, options: &Value) -> Value {
        let rcr = self.request(options);
        let mut assertion = WebauthnAuthenticator::new(Lend(&mut self.key))
            .do_authentication(Url::parse(ORIGIN).expect("origin"), rcr)
            .expect("the authenticator signs");
        assertion.response.user_handle = self.user_handle.clone().map(Into::into);
        to_json(&assertion)
    }

    /// As [`Authenticator::get`], but signed as a page at `origin` for relying party `rp_id`
    /// would have it — straight from the key, past the checks a browser makes (what a
    /// phishing page or a rogue client could send).
    pub fn get_as(&mut self, options: &Value, origin: &str, rp_id: &str) -> Value {
        let mut rcr = self.request(options);
        rcr.public_key.rp_id = rp_id.to_owned();
        let mut assertion = self
            .key
            .perform_auth(Url::parse(origin).expect("origin"), rcr.public_key, 60_000)
            .expect("the key signs");
        assertion.response.user_handle = self.user_handle.clone().map(Into::into);
        to_json(&assertion)
    }

    fn request(&self, options: &Value) -> RequestChallengeResponse {
        let mut rcr: RequestChallengeResponse =
            serde_json::from_value(options.clone()).expect("request options");
        let id = self.credential.clone().expect("a registered credential");
        rcr.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id: id.into(),
            transports: None,
        }];
        rcr
    }
}

/// A creation that did not verify the user: the options downgraded to
/// `userVerification: "discouraged"`, a key that then does not verify.
pub fn create_without_user_verification(options: &Value) -> Value {
    let mut ccr: CreationChallengeResponse =
        serde_json::from_value(options.clone()).expect("creation options");
    if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
        selection.require_resident_key = false;
        selection.user_verification = UserVerificationPolicy::Discouraged_DO_NOT_USE;
    }
    let credential = WebauthnAuthenticator::new(SoftPasskey::new(false))
        .do_registration(Url::parse(ORIGIN).expect("origin"), ccr)
        .expect("the authenticator registers");
    to_json(&credential)
}

/// webauthn-rs-proto's JSON of a client answer, reshaped into a browser's `toJSON()`:
/// `clientExtensionResults` instead of `extensions`, `authenticatorAttachment`, no
/// `userHandle: null`.
pub fn to_json(credential: &impl serde::Serialize) -> Value {
    let mut v = serde_json::to_value(credential).expect("JSON");
    let o = v.as_object_mut().expect("an object");
    let extensions = o.remove("extensions").unwrap_or_else(|| json!({}));
    o.insert("clientExtensionResults".into(), extensions);
    o.insert("authenticatorAttachment".into(), json!("cross-platform"));
    if let Some(response) = o.get_mut("response").and_then(Value::as_object_mut) {
        if response.get("userHandle") == Some(&Value::Null) {
            response.remove("userHandle");
        }
        if response.get("transports") == Some(&Value::Null) {
            response.insert("transports".into(), json!(["internal", "hybrid"]));
        }
    }
    v
}

impl TestServer {
    /// `POST /api/passkeys/registration/options` (no body) with `access`.
    pub async fn passkey_registration_options(&self, access: &str) -> Response {
        self.auth_post("/api/passkeys/registration/options")
            .bearer_auth(access)
            .send()
            .await
            .expect("registration options")
    }

    /// The registration options, which must be granted.
    pub async fn registration_options_ok(&self, access: &str) -> Value {
        let response = self.passkey_registration_options(access).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("options JSON")
    }

    /// `POST /api/passkeys` with `body`.
    pub async fn add_passkey(&self, access: &str, body: &Value) -> Response {
        self.auth_post("/api/passkeys")
            .bearer_auth(access)
            .json(body)
            .send()
            .await
            .expect("add a passkey")
    }

    /// Options, the authenticator's answer, `POST /api/passkeys` as `name`: must be added.
    /// Returns the new `PasskeyInfo`.
    pub async fn register_passkey<K: AuthenticatorBackend>(
        &self,
        access: &str,
        key: &mut Authenticator<K>,
        name: &str,
    ) -> Value {
        let options = self.registration_options_ok(access).await;
        let credential = key.create(&options);
        let response = self
            .add_passkey(access, &json!({"name": name, "credential": credential}))
            .await;
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::CREATED, "{text}");
        serde_json::from_str(&text).expect("PasskeyInfo")
    }

    /// `POST /api/auth/passkey/options` (no body): must be granted.
    pub async fn passkey_options(&self) -> Value {
        let response = self
            .auth_post("/api/auth/passkey/options")
            .send()
            .await
            .expect("sign-in options");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).expect("options JSON")
    }

    /// `POST /api/auth/passkey` `{"credential": credential}`.
    pub async fn passkey_sign_in(&self, credential: &Value) -> Response {
        self.auth_post("/api/auth/passkey")
            .json(&json!({ "credential": credential }))
            .send()
            .await
            .expect("passkey sign-in")
    }

    /// `POST /api/auth/passkey` with a raw body.
    pub async fn passkey_sign_in_raw(&self, body: &'static str) -> Response {
        self.auth_post("/api/auth/passkey")
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("passkey sign-in")
    }

    /// `GET /api/passkeys` with `access`: the list (never cached).
    pub async fn passkeys(&self, access: &str) -> Vec<Value> {
        let response = self
            .get_bearer("/api/passkeys", access)
            .header(XRW.0, XRW.1)
            .send()
            .await
            .expect("list passkeys");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let status = response.status();
        let text = response.text().await.expect("body");
        assert_eq!(status, StatusCode::OK, "{text}");
        serde_json::from_str(&text).expect("a list")
    }
}

// ---- shared by the passkey test binaries ----

pub async fn server() -> TestServer {
    start_with(passkeys_on_localhost).await
}

/// What a refusal must leave as it was: the rows of sessions and passkeys, and each counter.
pub async fn snapshot(server: &TestServer) -> (i64, i64, Vec<(String, i64, Option<i64>)>) {
    let sessions = server.db().count("SELECT COUNT(*) FROM sessions").await;
    let passkeys = server.db().count("SELECT COUNT(*) FROM passkeys").await;
    let rows = server
        .db()
        .rows(
            "SELECT id, counter, last_used_at FROM passkeys ORDER BY id",
            None,
        )
        .await;
    let counters = rows
        .iter()
        .map(|r| {
            use sqlx::Row;
            (
                r.try_get::<String, _>(0).unwrap(),
                r.try_get::<i64, _>(1).unwrap(),
                r.try_get::<Option<i64>, _>(2).unwrap(),
            )
        })
        .collect();
    (sessions, passkeys, counters)
}

pub async fn events(server: &TestServer, kind: &str) -> Vec<Option<String>> {
    let rows = server
        .db()
        .rows(
            "SELECT detail FROM security_events WHERE kind = $1 ORDER BY id",
            Some(kind),
        )
        .await;
    rows.iter()
        .map(|r| sqlx::Row::try_get::<Option<String>, _>(r, 0).unwrap())
        .collect()
}

pub async fn ceremonies(server: &TestServer) -> i64 {
    server
        .db()
        .count("SELECT COUNT(*) FROM webauthn_ceremonies")
        .await
}
