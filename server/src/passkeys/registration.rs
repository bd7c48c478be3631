//! **Adding a passkey** to a signed-in account: the `navigator.credentials.create` options
//! (a registration ceremony of that user), then the authenticator's answer → a stored passkey.

use serde_json::{json, Value};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremonies::Ceremony;
use super::{internal, refused, PasskeyError, PasskeyName, Passkeys, Refusal, StoredPasskey};
use crate::ids::UserId;
use crate::security_events::Client;

impl Passkeys {
    /// The creation options for `user_id` (named `username` on the authenticator): webauthn-rs'
    /// `CreationChallengeResponse`, asking for a **discoverable** credential (webauthn-rs says
    /// `residentKey: "discouraged"`; a security key would then make one the usernameless
    /// sign-in cannot find) and excluding the passkeys the user already has.
    pub async fn registration_options(
        &self,
        user_id: UserId,
        username: &str,
    ) -> Result<Value, PasskeyError> {
        let webauthn = self.webauthn()?;
        let handle = self.user_handle(user_id).await?;
        let exclude = self
            .list(user_id)
            .await?
            .iter()
            .map(|p| p.key().map(|k| k.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (options, state) = webauthn
            .start_passkey_registration(handle, username, username, Some(exclude))
            .map_err(|e| internal("starting a registration", e))?;
        self.ceremonies
            .begin(
                Ceremony::Registration,
                options.public_key.challenge.as_ref(),
                Some(user_id),
                &state,
            )
            .await?;
        let mut options =
            serde_json::to_value(&options).map_err(|e| internal("registration options", e))?;
        if let Some(selection) = options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(Value::as_object_mut)
        {
            selection.insert("residentKey".into(), json!("required"));
            selection.insert("requireResidentKey".into(), json!(true));
        }
        Ok(options)
    }

    /// Finishes `user_id`'s registration ceremony with `credential` (the browser's
    /// `credential.toJSON()`) and stores the passkey as `name`.
    pub async fn register(
        &self,
        user_id: UserId,
        name: &PasskeyName,
        credential: Value,
        client: &Client,
    ) -> Result<StoredPasskey, PasskeyError> {
        let webauthn = self.webauthn()?;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(credential).map_err(|_| Refusal::NotACredential)?;
        let ceremony = self
            .ceremonies
            .take::<PasskeyRegistration>(
                Ceremony::Registration,
                credential.response.client_data_json.as_ref(),
            )
            .await?
            .ok_or(Refusal::UnknownChallenge)?;
        // Another user's ceremony (its challenge leaked?) registers nothing here.
        if ceremony.user_id != Some(user_id) {
            return Err(Refusal::UnknownChallenge.into());
        }
        let passkey = webauthn
            .finish_passkey_registration(&credential, &ceremony.state)
            .map_err(refused)?;
        self.insert(user_id, name, &passkey, client).await
    }
}
