//! The words of the auth state, shared by every part of the client: who is signed in
//! ([`AuthState`]), which sign-in this is ([`SessionVersion`]), what a sign-out ends
//! ([`SignOutScope`]), what the sign-in page says ([`Notice`]), and how the server session is
//! about to end ([`SessionEnding`]). Plain values, no behaviour: the state itself is kept in
//! [`crate::state`].

use crate::token::AccessToken;

/// Counts this tab's sign-ins and sign-outs. Anything started under one version (a refresh, a
/// request waiting to be retried, a sign-out retry) is discarded if the version changed
/// meanwhile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionVersion(u64);

impl SessionVersion {
    /// The version after this one.
    pub fn next(self) -> SessionVersion {
        SessionVersion(self.0 + 1)
    }
}

/// Who is signed in in this tab.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AuthState<U> {
    /// At page load, until the silent refresh through the cookie answers.
    Restoring,
    /// Somebody is signed in.
    SignedIn {
        /// Who.
        user: U,
        /// Their access token.
        token: AccessToken,
    },
    /// Nobody is signed in.
    SignedOut,
}

impl<U> AuthState<U> {
    /// The signed-in user.
    pub fn user(&self) -> Option<&U> {
        match self {
            AuthState::SignedIn { user, .. } => Some(user),
            _ => None,
        }
    }

    /// The access token.
    pub fn token(&self) -> Option<&AccessToken> {
        match self {
            AuthState::SignedIn { token, .. } => Some(token),
            _ => None,
        }
    }
}

/// A message for the sign-in page, saying why the user is there.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The server refused the refresh, or the session reached its end.
    SessionEnded,
    /// Another tab signed out.
    SignedOutInAnotherTab,
    /// The server confirmed the sign-out of this device.
    SignedOut,
    /// The server confirmed the sign-out of every device.
    SignedOutEverywhere,
    /// The session is bound to a DPoP key this browser no longer has (IndexedDB unavailable, so
    /// the key lived only in the page's memory, or cleared).
    DpopKeyLost,
    /// The server refused the sign-out for good: signed out here, but the session may live on.
    SignOutRefused {
        /// The HTTP status.
        status: u16,
        /// The server's code.
        code: String,
    },
}

impl Notice {
    /// The sentence to show.
    pub fn message(&self) -> String {
        match self {
            Notice::SessionEnded => "Your session ended — please sign in again.".into(),
            Notice::SignedOutInAnotherTab => "You signed out in another tab.".into(),
            Notice::SignedOut => "You are signed out.".into(),
            Notice::SignedOutEverywhere => {
                "You are signed out everywhere: every device's session has ended.".into()
            }
            Notice::DpopKeyLost => "This browser could not keep your session's key (IndexedDB \
                 is unavailable or was cleared): please sign in again."
                .into(),
            Notice::SignOutRefused { status, code } => format!(
                "You are signed out in this browser, but the server refused to end the session \
                 ({status} {code}), so it may still be active. Signing in again replaces it."
            ),
        }
    }
}

/// What a sign-out ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignOutScope {
    /// This browser's session.
    ThisDevice,
    /// Every session of the user.
    Everywhere,
}

/// The server session is about to end (see `ClientConfig::session_warning`): time to ask the
/// user whether to stay signed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionEnding {
    /// Its idle timeout: a refresh (`TokenClient::stay_signed_in`) keeps it going.
    Idle,
    /// Its absolute end: only a new sign-in continues.
    Absolute,
}
