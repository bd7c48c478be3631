//! `Username` and `Password`: what the API accepts, checked once where a request enters
//! (and for the demo accounts, through the very same constructors).
//!
//! Registration applies the full rules ([`Username::new`], [`Password::new`]). Sign-in only
//! bounds the input ([`Username::for_sign_in`], [`Password::for_sign_in`]): a name that could
//! never have been registered is simply not found, and gets the same answer as a wrong password.

/// The limits, shared with the SPA (which checks them before asking): `tokenpair_api::rules`.
pub use tokenpair_api::rules::{PASSWORD_MAX, PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN};

/// Why a username or password was refused; the text is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("Enter a username and a password.")]
    Missing,
    #[error("Username must be {USERNAME_MIN} to {USERNAME_MAX} characters long (it is {0}).")]
    UsernameLength(usize),
    #[error("Username must be at most {USERNAME_MAX} characters long.")]
    UsernameTooLong,
    #[error("Username may contain only letters A-Z, digits, underscore, dot and hyphen.")]
    UsernameCharacters,
    #[error("Password must be at least {PASSWORD_MIN} characters long.")]
    PasswordTooShort,
    #[error("Password must be at most {PASSWORD_MAX} characters long.")]
    PasswordTooLong,
}

/// A username: for a new account it follows the rules; for a sign-in it is a bounded name to
/// look up (case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// A name for a new account: 3–32 of `A-Z a-z 0-9 _ . -`.
    pub fn new(name: &str) -> Result<Self, CredentialError> {
        let len = name.chars().count();
        if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
            return Err(CredentialError::UsernameLength(len));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(CredentialError::UsernameCharacters);
        }
        Ok(Username(name.to_owned()))
    }

    /// A name typed into the sign-in form: trimmed, not empty, at most 32 characters.
    pub fn for_sign_in(name: &str) -> Result<Self, CredentialError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CredentialError::Missing);
        }
        if name.chars().count() > USERNAME_MAX {
            return Err(CredentialError::UsernameTooLong);
        }
        Ok(Username(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The one form every lookup and every throttle counter uses ([`name_key`]).
    pub fn key(&self) -> String {
        name_key(&self.0)
    }
}

/// A username as the server compares it: NFKC, then Unicode default case folding (then NFKC
/// again, as folding can leave a sequence NFKC would change). Computed here, never by the
/// database (whose `lower()` depends on its locale): accounts are found by this key and
/// throttled by it, so no spelling of a name reaches an account under another counter.
pub fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded = caseless::default_case_fold_str(&name.nfkc().collect::<String>());
    folded.nfkc().collect()
}

/// The two fields of a sign-in, checked in the order the form shows its messages: a missing
/// field first, then the lengths.
pub fn sign_in(username: &str, password: String) -> Result<(Username, Password), CredentialError> {
    if username.trim().is_empty() || password.is_empty() {
        return Err(CredentialError::Missing);
    }
    Ok((
        Username::for_sign_in(username)?,
        Password::for_sign_in(password)?,
    ))
}

/// A password, bounded so hashing it stays cheap. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl Password {
    /// A password for a new account: 8–256 characters.
    pub fn new(password: String) -> Result<Self, CredentialError> {
        let len = password.chars().count();
        if len < PASSWORD_MIN {
            return Err(CredentialError::PasswordTooShort);
        }
        if len > PASSWORD_MAX {
            return Err(CredentialError::PasswordTooLong);
        }
        Ok(Password(password))
    }

    /// A password typed into the sign-in form: not empty, at most 256 characters.
    pub fn for_sign_in(password: String) -> Result<Self, CredentialError> {
        if password.is_empty() {
            return Err(CredentialError::Missing);
        }
        if password.chars().count() > PASSWORD_MAX {
            return Err(CredentialError::PasswordTooLong);
        }
        Ok(Password(password))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_documented_rules() {
        for ok in ["abc", "user_1", "a.b-c", &"x".repeat(32)] {
            assert!(Username::new(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", &"x".repeat(33), "has space", "ünï", "semi;colon", ""] {
            assert!(Username::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_name_key_folds_case_and_compatibility_forms_the_same_way_everywhere() {
        assert_eq!(name_key("User1"), "user1");
        assert_eq!(name_key("ＵＳＥＲ１"), "user1"); // fullwidth
        assert_eq!(name_key("STRASSE"), name_key("straße"));
        assert_eq!(name_key("ſtrasse"), "strasse"); // long s folds to s
                                                    // U+0130 folds to i + combining dot: not the account "idris".
        assert_ne!(name_key("İdris"), name_key("idris"));
        assert_eq!(name_key("İdris"), name_key("i\u{307}dris"));
    }

    #[test]
    fn passwords_need_eight_characters_and_have_a_ceiling() {
        assert!(Password::new("1234567".into()).is_err());
        assert!(Password::new("12345678".into()).is_ok());
        assert!(Password::new("p".repeat(PASSWORD_MAX + 1)).is_err());
    }

    #[test]
    fn sign_in_input_is_only_bounded_and_an_empty_field_is_missing() {
        assert_eq!(
            Username::for_sign_in("  ").unwrap_err(),
            CredentialError::Missing
        );
        assert_eq!(
            Username::for_sign_in(" has space ").unwrap().as_str(),
            "has space"
        );
        assert_eq!(
            Username::for_sign_in(&"x".repeat(33)).unwrap_err(),
            CredentialError::UsernameTooLong
        );
        assert_eq!(
            Password::for_sign_in(String::new()).unwrap_err(),
            CredentialError::Missing
        );
        assert!(Password::for_sign_in("short".into()).is_ok());
        assert!(
            !format!("{:?}", Password::for_sign_in("hunter2".into()).unwrap()).contains("hunter2")
        );
    }
}
