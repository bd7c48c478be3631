//! **Signing in with a passkey** (usernameless) and **re-authenticating** with one: the
//! `navigator.credentials.get` options (an authentication ceremony of nobody in particular),
//! then the authenticator's answer → the user it proved.

use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PublicKeyCredential, WebauthnError,
};

use super::ceremonies::Ceremony;
use super::{internal, refused, PasskeyError, Passkeys, Refusal, StoredPasskey};
use crate::ids::UserId;
use crate::security_events::{Client, Event, Kind};

/// Who a passkey answer proved to be there.
#[derive(Debug, Clone)]
pub struct Proved {
    pub user_id: UserId,
    pub username: String,
    /// The passkey's id (the API's).
    pub passkey_id: String,
}

impl Passkeys {
    /// The request options of a usernameless sign-in: webauthn-rs' discoverable
    /// `RequestChallengeResponse` (`allowCredentials: []`, `mediation: "conditional"`).
    pub async fn sign_in_options(&self) -> Result<Value, PasskeyError> {
        let webauthn = self.webauthn()?;
        let (options, state) = webauthn
            .start_discoverable_authentication()
            .map_err(|e| internal("starting an authentication", e))?;
        self.ceremonies
            .begin(
                Ceremony::Authentication,
                options.public_key.challenge.as_ref(),
                None,
                &state,
            )
            .await?;
        serde_json::to_value(&options).map_err(|e| internal("authentication options", e))
    }

    /// A sign-in: finishes the authentication ceremony `credential` answers.
    pub async fn sign_in(
        &self,
        credential: Value,
        client: &Client,
    ) -> Result<Proved, PasskeyError> {
        self.authenticate(credential, None, client).await
    }

    /// A re-authentication of `user_id`: the same, but only one of their own passkeys passes.
    /// A refusal is recorded (`reauthentication_failed`, detail `passkey_refused`).
    pub async fn reauthenticate(
        &self,
        user_id: UserId,
        credential: Value,
        client: &Client,
    ) -> Result<Proved, PasskeyError> {
        let result = self.authenticate(credential, Some(user_id), client).await;
        if let Err(PasskeyError::Refused(_)) = &result {
            let failure = Event::new(
                Kind::ReauthenticationFailed,
                self.clock.now(),
                Some(user_id),
            )
            .client(client)
            .detail("passkey_refused");
            self.record(failure).await?;
        }
        result
    }

    /// Takes the ceremony, finds the user by the answer's `userHandle` (`only`: it must be that
    /// one), verifies the answer against that user's passkeys as stored now, and stores the new
    /// counter. Nothing but the ceremony changes when it fails.
    async fn authenticate(
        &self,
        credential: Value,
        only: Option<UserId>,
        client: &Client,
    ) -> Result<Proved, PasskeyError> {
        let webauthn = self.webauthn()?;
        let credential: PublicKeyCredential =
            serde_json::from_value(credential).map_err(|_| Refusal::NotACredential)?;
        let ceremony = self
            .ceremonies
            .take::<DiscoverableAuthentication>(
                Ceremony::Authentication,
                credential.response.client_data_json.as_ref(),
            )
            .await?
            .ok_or(Refusal::UnknownChallenge)?;
        // The user handle is not signed: it only says whose passkeys to verify against.
        let (handle, _) = webauthn
            .identify_discoverable_authentication(&credential)
            .map_err(refused)?;
        let (user_id, username) = self
            .user_of_handle(handle)
            .await?
            .ok_or(Refusal::UnknownCredential)?;
        if only.is_some_and(|expected| expected != user_id) {
            return Err(Refusal::OtherAccount.into());
        }
        let stored: Vec<(StoredPasskey, Passkey)> = self
            .list(user_id)
            .await?
            .into_iter()
            .map(|row| row.key().map(|key| (row, key)))
            .collect::<Result<_, _>>()?;
        let keys: Vec<DiscoverableKey> = stored.iter().map(|(_, k)| k.into()).collect();
        let result =
            match webauthn.finish_discoverable_authentication(&credential, ceremony.state, &keys) {
                Ok(result) => result,
                Err(WebauthnError::CredentialPossibleCompromise) => {
                    let raw_id: &[u8] = credential.raw_id.as_ref();
                    let name = stored
                        .iter()
                        .find(|(_, k)| k.cred_id().as_slice() == raw_id)
                        .map_or("", |(row, _)| row.name.as_str());
                    self.clone_suspected(user_id, name, client).await?;
                    return Err(Refusal::CloneSuspected.into());
                }
                Err(e) => return Err(refused(e)),
            };
        let (row, mut key) = stored
            .into_iter()
            .find(|(_, k)| k.cred_id() == result.cred_id())
            .ok_or(Refusal::UnknownCredential)?;
        key.update_credential(&result);
        if !self.record_use(&row, &key, &result).await? {
            // Another sign-in stored a counter at least as high meanwhile.
            self.clone_suspected(user_id, &row.name, client).await?;
            return Err(Refusal::CloneSuspected.into());
        }
        Ok(Proved {
            user_id,
            username,
            passkey_id: row.id,
        })
    }
}
