//! The username and password rules, in one place for both sides: the server enforces them,
//! the SPA checks them as the user types (same limits, same sentences).

/// Fewest characters in a username.
pub const USERNAME_MIN: usize = 3;
/// Most characters in a username.
pub const USERNAME_MAX: usize = 32;
/// Fewest characters in a new password.
pub const PASSWORD_MIN: usize = 8;
/// Longer passwords are refused before hashing, so nobody can make Argon2 chew megabytes.
pub const PASSWORD_MAX: usize = 256;

/// The rule, as shown under the username field when registering.
pub const USERNAME_HINT: &str = "3–32 characters: letters A–Z, digits, _ . -";
/// The rule, as shown under the password field when registering.
pub const PASSWORD_HINT: &str = "At least 8 characters.";

/// Checks a username for registration; the error is the sentence shown to the user.
pub fn validate_username(name: &str) -> Result<(), String> {
    let len = name.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Err(format!(
            "Username must be {USERNAME_MIN} to {USERNAME_MAX} characters long (it is {len})."
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(
            "Username may contain only letters A-Z, digits, underscore, dot and hyphen.".into(),
        );
    }
    Ok(())
}

/// Checks a new password; the error is the sentence shown to the user.
pub fn validate_password(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < PASSWORD_MIN {
        return Err(format!(
            "Password must be at least {PASSWORD_MIN} characters long."
        ));
    }
    if len > PASSWORD_MAX {
        return Err(format!(
            "Password must be at most {PASSWORD_MAX} characters long."
        ));
    }
    Ok(())
}

/// What sign-in needs before asking the server: both fields filled in, within the limits.
pub fn check_sign_in(username: &str, password: &str) -> (Option<String>, Option<String>) {
    let user = if username.trim().is_empty() {
        Some("Enter your username.".to_owned())
    } else if username.trim().chars().count() > USERNAME_MAX {
        Some(format!(
            "Username must be at most {USERNAME_MAX} characters long."
        ))
    } else {
        None
    };
    let pass = if password.is_empty() {
        Some("Enter your password.".to_owned())
    } else if password.chars().count() > PASSWORD_MAX {
        Some(format!(
            "Password must be at most {PASSWORD_MAX} characters long."
        ))
    } else {
        None
    };
    (user, pass)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_documented_rule() {
        for ok in ["abc", "user_1", "a.b-c", &"x".repeat(USERNAME_MAX)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ab",
            "has space",
            "ünï",
            "a/b",
            &"x".repeat(USERNAME_MAX + 1),
        ] {
            assert!(validate_username(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_eight_to_256_characters() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"p".repeat(PASSWORD_MAX + 1)).is_err());
    }

    #[test]
    fn sign_in_needs_both_fields() {
        assert_eq!(
            check_sign_in("", "x").0.as_deref(),
            Some("Enter your username.")
        );
        assert_eq!(
            check_sign_in("u", "").1.as_deref(),
            Some("Enter your password.")
        );
        assert_eq!(check_sign_in("u", "p"), (None, None));
    }
}
