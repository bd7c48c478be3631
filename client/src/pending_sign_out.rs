//! A sign-out the server has not confirmed yet, remembered across reloads.
//!
//! The marker is a `localStorage` key (`ClientConfig::pending_sign_out_key`) whose value is
//! only the word `here` or `everywhere` — no secret. While it is set, a reload resumes the
//! sign-out instead of signing back in through the still-valid cookie. Another tab that signs
//! in (or has the sign-out confirmed, or refused) removes it, which is how a retry loop in
//! this tab learns, under the lock, that its work is over.

use crate::auth_state::SignOutScope;
use crate::protocol::LogoutVerdict;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The marker (see the module docs).
pub(crate) struct PendingSignOut {
    key: Option<String>,
}

impl PendingSignOut {
    pub(crate) fn new(key: Option<String>) -> Self {
        PendingSignOut { key }
    }

    pub(crate) fn remember(&self, scope: SignOutScope) {
        if let (Some(key), Some(storage)) = (&self.key, local_storage()) {
            let value = match scope {
                SignOutScope::ThisDevice => "here",
                SignOutScope::Everywhere => "everywhere",
            };
            let _ = storage.set_item(key, value);
        }
    }

    pub(crate) fn forget(&self) {
        if let (Some(key), Some(storage)) = (&self.key, local_storage()) {
            let _ = storage.remove_item(key);
        }
    }

    /// The sign-out a previous page (or another tab) left waiting, if any.
    pub(crate) fn remembered(&self) -> Option<SignOutScope> {
        let key = self.key.as_ref()?;
        match local_storage()?.get_item(key).ok().flatten()?.as_str() {
            "everywhere" => Some(SignOutScope::Everywhere),
            _ => Some(SignOutScope::ThisDevice),
        }
    }

    /// Whether the marker still says a sign-out is waiting. Without a key (or storage) there is
    /// nothing to consult, and the tab's own state decides.
    pub(crate) fn still_waiting(&self) -> bool {
        self.key.is_none() || local_storage().is_none() || self.remembered().is_some()
    }
}

/// What the retry loop does after an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The server ended the session (or it had already ended).
    Confirmed,
    /// Try again after a backoff.
    Retry(crate::problem::Problem),
    /// Stop: the server refused for good.
    Refused { status: u16, code: String },
}

impl From<LogoutVerdict> for Step {
    fn from(verdict: LogoutVerdict) -> Step {
        match verdict {
            LogoutVerdict::Done | LogoutVerdict::AlreadyEnded => Step::Confirmed,
            LogoutVerdict::Retry(problem) => Step::Retry(problem),
            LogoutVerdict::Refused { status, code } => Step::Refused { status, code },
        }
    }
}
