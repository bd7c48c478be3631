//! **Passkeys** (WebAuthn, with webauthn-rs): adding one to a signed-in account, signing in
//! with one without a username, and re-authenticating with one (RFC 9470 step-up).
//!
//! * [`relying_party`] — who the passkeys are for (`WEBAUTHN_RP_ID`, `WEBAUTHN_ORIGIN`); an IP
//!   address leaves them off: every ceremony is then refused with [`PasskeyError::Unavailable`].
//! * [`ceremonies`] — each ceremony's state between its two requests, **single use** and
//!   shared by every instance: a failed answer consumes its ceremony too.
//! * [`store`] — the `passkeys` rows (the serialised `Passkey`, its signature counter and
//!   backup flags) and each user's WebAuthn user handle.
//! * Registration asks for a discoverable credential (`residentKey: "required"`) so that the
//!   usernameless sign-in finds it; sign-in identifies the user by the answer's (unsigned)
//!   `userHandle`, then verifies it against **that user's passkeys as stored now** — so the
//!   signature counter is checked against its latest value, and a counter that did not go up
//!   (a cloned authenticator) is refused and recorded (`passkey_clone_suspected`).
//!
//! Every refusal changes nothing but the consumed ceremony; adding, renaming and deleting a
//! passkey record their security event in the same transaction.

pub mod ceremonies;
mod registration;
pub mod relying_party;
mod sign_in;
pub mod store;

use std::sync::Arc;

use webauthn_rs::prelude::{Webauthn, WebauthnError};

pub use ceremonies::Ceremonies;
pub use relying_party::{BadRelyingParty, RelyingParty};
pub use sign_in::Proved;
pub use store::StoredPasskey;

use crate::clock::Clock;
use crate::db::{Db, DbError};
use crate::security_events::SecurityEvents;

/// The passkey service (in the app state; cheap to clone).
#[derive(Clone)]
pub struct Passkeys {
    /// `None`: the relying party id is an IP address, passkeys are off.
    webauthn: Option<Arc<Webauthn>>,
    rp_id: String,
    db: Db,
    events: SecurityEvents,
    clock: Clock,
    ceremonies: Ceremonies,
}

/// Why a passkey request was not done.
#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The relying party id is an IP address.
    #[error(
        "Passkeys need a domain name such as localhost: this server is set up for the IP \
         address {0}, which passkeys never work with (its operator can set PUBLIC_URL, or \
         WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN)."
    )]
    Unavailable(String),
    /// A ceremony refused: nothing changed (but its ceremony is used up).
    #[error("{0}")]
    Refused(Refusal),
    /// A name that breaks the rules.
    #[error("{0}")]
    BadName(String),
    /// No such passkey of this user.
    #[error("No such passkey.")]
    NotFound,
    #[error(transparent)]
    Db(#[from] DbError),
    /// A stored state or passkey that does not read back (a bug or a changed format).
    #[error("passkeys: {0}")]
    Internal(String),
}

/// Why a passkey ceremony was refused (the message people see).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("This is not a passkey credential: send the browser's `credential.toJSON()` as `credential`.")]
    NotACredential,
    #[error("This passkey prompt was already used or has expired: try again.")]
    UnknownChallenge,
    #[error("The passkey answered a page of another origin.")]
    WrongOrigin,
    #[error("The passkey was made for another website (relying party).")]
    WrongRelyingParty,
    #[error("The passkey did not verify that it is you (PIN, fingerprint or face): try again.")]
    NotVerified,
    #[error("This passkey is not registered with any account here.")]
    UnknownCredential,
    #[error("This passkey belongs to another account.")]
    OtherAccount,
    #[error("The passkey's signature does not verify.")]
    BadSignature,
    #[error("This passkey is already registered.")]
    AlreadyRegistered,
    #[error(
        "This passkey's signature counter did not go up, as happens when an authenticator was \
         copied: it was refused. If you did not expect this, delete the passkey and add it again."
    )]
    CloneSuspected,
    #[error("The passkey's answer was refused.")]
    Other,
}

impl From<Refusal> for PasskeyError {
    fn from(r: Refusal) -> Self {
        PasskeyError::Refused(r)
    }
}

/// What webauthn-rs refused, as people are told (the variant goes to the log).
fn refused(e: WebauthnError) -> PasskeyError {
    tracing::info!(error = ?e, "passkey refused");
    PasskeyError::Refused(match e {
        WebauthnError::InvalidRPOrigin | WebauthnError::CredentialCrossOrigin => {
            Refusal::WrongOrigin
        }
        WebauthnError::InvalidRPIDHash => Refusal::WrongRelyingParty,
        WebauthnError::UserNotVerified | WebauthnError::UserNotPresent => Refusal::NotVerified,
        WebauthnError::CredentialNotFound | WebauthnError::InvalidUserUniqueId => {
            Refusal::UnknownCredential
        }
        WebauthnError::MismatchedChallenge | WebauthnError::ChallengeNotFound => {
            Refusal::UnknownChallenge
        }
        WebauthnError::AuthenticationFailure => Refusal::BadSignature,
        WebauthnError::CredentialPossibleCompromise => Refusal::CloneSuspected,
        WebauthnError::CredentialAlreadyExists
        | WebauthnError::CredentialExcludedFromRequest
        | WebauthnError::CredentialAlteredAlgFromRequest => Refusal::AlreadyRegistered,
        _ => Refusal::Other,
    })
}

fn internal(what: &str, e: impl std::fmt::Display) -> PasskeyError {
    PasskeyError::Internal(format!("{what}: {e}"))
}

impl Passkeys {
    /// The service for relying party `rp` (off when its id is an IP address).
    pub fn new(
        rp: &RelyingParty,
        db: Db,
        events: SecurityEvents,
        clock: Clock,
    ) -> Result<Passkeys, BadRelyingParty> {
        let webauthn = rp.webauthn(ceremonies::LIFETIME)?.map(Arc::new);
        Ok(Passkeys {
            webauthn,
            rp_id: rp.id.clone(),
            ceremonies: Ceremonies::new(db.clone(), clock.clone()),
            db,
            events,
            clock,
        })
    }

    /// Whether passkeys can be used at all (the relying party id is a domain name).
    pub fn available(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn, PasskeyError> {
        self.webauthn
            .as_deref()
            .ok_or_else(|| PasskeyError::Unavailable(self.rp_id.clone()))
    }
}

/// A passkey's name: trimmed, 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

impl PasskeyName {
    /// The name of a passkey added without one.
    pub const DEFAULT: &'static str = "Passkey";
    pub const MAX_CHARS: usize = 64;

    pub fn new(name: &str) -> Result<PasskeyName, PasskeyError> {
        let name = name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > Self::MAX_CHARS {
            return Err(PasskeyError::BadName(format!(
                "A passkey's name must be 1 to {} characters long (it is {chars}).",
                Self::MAX_CHARS
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(PasskeyError::BadName(
                "A passkey's name cannot hold control characters (such as a line break).".into(),
            ));
        }
        Ok(PasskeyName(name.to_owned()))
    }

    /// [`PasskeyName::new`], or [`PasskeyName::DEFAULT`] for none or a blank one.
    pub fn or_default(name: Option<&str>) -> Result<PasskeyName, PasskeyError> {
        match name.map(str::trim) {
            None | Some("") => Ok(PasskeyName(Self::DEFAULT.to_owned())),
            Some(name) => PasskeyName::new(name),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_default_to_passkey() {
        assert_eq!(PasskeyName::new("  Laptop  ").unwrap().as_str(), "Laptop");
        assert_eq!(PasskeyName::or_default(None).unwrap().as_str(), "Passkey");
        assert_eq!(
            PasskeyName::or_default(Some("   ")).unwrap().as_str(),
            "Passkey"
        );
        assert!(PasskeyName::new(&"é".repeat(64)).is_ok());
        assert!(matches!(
            PasskeyName::new(&"é".repeat(65)),
            Err(PasskeyError::BadName(_))
        ));
        assert!(matches!(
            PasskeyName::new(" "),
            Err(PasskeyError::BadName(_))
        ));
        assert!(matches!(
            PasskeyName::new("a\nb"),
            Err(PasskeyError::BadName(_))
        ));
    }
}
