//! chromedriver's WebAuthn extension (W3C WebAuthn §11): a **virtual authenticator** in the
//! browser, so the passkey journeys run without hardware — a platform authenticator with
//! resident keys and user verification, like a laptop's fingerprint reader.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use hyper::Method;
use serde_json::{json, Value};
use url::{ParseError, Url};

/// `method /session/{id}/<path>` with an optional JSON body.
#[derive(Debug)]
struct SessionCommand {
    method: Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(&self, base_url: &Url, session_id: Option<&str>) -> Result<Url, ParseError> {
        let id = session_id.ok_or(ParseError::EmptyHost)?;
        base_url.join(&format!("session/{id}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &Url) -> (Method, Option<String>) {
        (
            self.method.clone(),
            self.body.as_ref().map(Value::to_string),
        )
    }
}

async fn command(browser: &Client, method: Method, path: String, body: Option<Value>) -> Value {
    browser
        .issue_cmd(SessionCommand {
            method,
            path: path.clone(),
            body,
        })
        .await
        .unwrap_or_else(|e| panic!("WebAuthn {path}: {e}"))
}

/// A virtual authenticator added to the browser session.
pub struct VirtualAuthenticator {
    id: String,
}

impl VirtualAuthenticator {
    /// A CTAP2 platform ("internal") authenticator that keeps discoverable credentials and
    /// verifies the user every time (the person always says yes).
    pub async fn add(browser: &Client) -> VirtualAuthenticator {
        let id = command(
            browser,
            Method::POST,
            "webauthn/authenticator".into(),
            Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
                "automaticPresenceSimulation": true,
            })),
        )
        .await;
        VirtualAuthenticator {
            id: id.as_str().expect("an authenticator id").to_owned(),
        }
    }

    /// The credentials it holds (`credentialId`, `rpId`, `signCount`, `isResidentCredential`…).
    pub async fn credentials(&self, browser: &Client) -> Vec<Value> {
        let path = format!("webauthn/authenticator/{}/credentials", self.id);
        command(browser, Method::GET, path, None)
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Whether the person passes user verification from now on (`false`: every ceremony that
    /// requires it fails, as if they cancelled the prompt).
    pub async fn set_user_verified(&self, browser: &Client, verified: bool) {
        let path = format!("webauthn/authenticator/{}/uv", self.id);
        command(
            browser,
            Method::POST,
            path,
            Some(json!({ "isUserVerified": verified })),
        )
        .await;
    }

    /// Removes it from the browser session.
    pub async fn remove(self, browser: &Client) {
        let path = format!("webauthn/authenticator/{}", self.id);
        command(browser, Method::DELETE, path, None).await;
    }
}
