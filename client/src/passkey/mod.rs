//! Passkeys (WebAuthn) in the browser: the ceremonies through `navigator.credentials`.
//!
//! The server's options go in as JSON and the credential comes out as JSON
//! (`PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` and
//! `credential.toJSON()`, in `ceremony.js`), so no base64 or `ArrayBuffer` work is done here
//! and the bundle stays small. Nothing is stored: the private key never leaves the
//! authenticator.
//!
//! * Adding a passkey: fetch the creation options (a Bearer call), [`create`], post the
//!   credential back.
//! * Signing in, or re-authenticating: [`AuthEndpoints::passkey_assertion`]
//!   (the protocol's options request, then [`get`]), then `sign_in` or `reauthenticate` with
//!   the assertion — tokenpair: `TokenpairSignIn::passkey(assertion)`.
//! * Autofill (conditional mediation): [`get`] with `autofill: true` waits until the person
//!   picks a passkey from the username field's suggestions (`autocomplete="username
//!   webauthn"`). Only one request can be pending: any other ceremony — or
//!   [`abort_autofill`] — cancels it.
//!
//! [`AuthEndpoints::passkey_assertion`]: crate::AuthEndpoints::passkey_assertion

use std::fmt;

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/src/passkey/ceremony.js")]
extern "C" {
    /// `op`: `supported` (a boolean), `autofill` (a promise of a boolean), `abort`, `create`
    /// or `get` (promises of the credential's JSON).
    #[wasm_bindgen(js_name = passkey)]
    fn call(op: &str, options: &str, conditional: bool) -> JsValue;
}

fn promise(op: &str, options: &str, conditional: bool) -> JsFuture {
    JsFuture::from(js_sys::Promise::from(call(op, options, conditional)))
}

/// Why a ceremony gave no credential.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The person closed the prompt, it timed out, or another ceremony replaced it.
    Cancelled,
    /// This browser (or this origin: WebAuthn needs a secure context and a domain name, never
    /// an IP address) cannot use passkeys.
    Unsupported(String),
    /// The authenticator already holds a passkey for this account.
    AlreadyRegistered,
    /// Anything else: the browser's `Name: message`.
    Failed(String),
}

impl fmt::Display for PasskeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasskeyError::Cancelled => f.write_str("The passkey prompt was closed."),
            PasskeyError::Unsupported(why) => {
                f.write_str("Passkeys are not available here: ")?;
                f.write_str(why)
            }
            PasskeyError::AlreadyRegistered => {
                f.write_str("This device already has a passkey for your account.")
            }
            PasskeyError::Failed(why) => f.write_str(why),
        }
    }
}

impl PasskeyError {
    fn of(rejection: JsValue) -> PasskeyError {
        let text = rejection.as_string().unwrap_or_default();
        let name = text.split(':').next().unwrap_or_default();
        match name {
            "NotAllowedError" | "AbortError" => PasskeyError::Cancelled,
            "InvalidStateError" => PasskeyError::AlreadyRegistered,
            "SecurityError" | "NotSupportedError" => PasskeyError::Unsupported(text),
            _ => PasskeyError::Failed(text),
        }
    }
}

/// Whether this page can use passkeys: a secure context with WebAuthn and its JSON helpers, on
/// a domain name (an IP address such as `127.0.0.1` is never a relying-party id).
pub fn supported() -> bool {
    call("supported", "", false).is_truthy()
}

/// Whether the browser offers passkeys in the username field's autofill.
pub async fn autofill_available() -> bool {
    promise("autofill", "", false)
        .await
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Cancels a pending autofill request (a form submitted with a password, a page left).
pub fn abort_autofill() {
    let _ = call("abort", "", false);
}

/// Makes a passkey with the server's creation options (`{"publicKey": {…}}`); the credential
/// as JSON, to post back.
pub async fn create(options_json: &str) -> Result<String, PasskeyError> {
    if !supported() {
        return Err(PasskeyError::Unsupported("no WebAuthn".into()));
    }
    let made = promise("create", options_json, false)
        .await
        .map_err(PasskeyError::of)?;
    made.as_string()
        .ok_or_else(|| PasskeyError::Failed("no credential".into()))
}

/// Asks for an assertion with the server's request options; `autofill`: wait for the person
/// to pick a passkey from the username field's suggestions instead of prompting now.
pub async fn get(options_json: &str, autofill: bool) -> Result<String, PasskeyError> {
    if !supported() {
        return Err(PasskeyError::Unsupported("no WebAuthn".into()));
    }
    let got = promise("get", options_json, autofill)
        .await
        .map_err(PasskeyError::of)?;
    got.as_string()
        .ok_or_else(|| PasskeyError::Failed("no credential".into()))
}
