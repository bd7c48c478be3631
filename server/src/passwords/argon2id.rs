//! One Argon2id run, on the blocking thread that calls it: hashing a new password and
//! verifying one against a stored PHC string (`m=19456 KiB, t=2, p=1`, the crate's defaults).
//!
//! ## Memory
//! Each run needs 19 MiB of working memory. Runs take turns on one working memory
//! ([`WORK_MEMORY`]), so a burst of sign-ins cannot multiply that memory. The memory is freed
//! after every run: the binary tells glibc to serve such large blocks with `mmap` (see
//! `main.rs`), so freeing really returns them to the OS. An idle server then holds no Argon2
//! memory — and no leftovers derived from a password.

use std::sync::{Mutex, PoisonError};

use argon2::password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use super::PasswordError;

/// The Argon2 working memory of the process (see the module docs): its lock makes runs take
/// turns; each run allocates the default cost's 19 MiB and frees it when done.
static WORK_MEMORY: Mutex<Vec<Block>> = Mutex::new(Vec::new());

/// Hashes a new password: Argon2id, the crate's default cost, a random salt, as a PHC string.
pub fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let err = |e: &dyn std::fmt::Display| PasswordError::Hash(e.to_string());
    let params = Params::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| err(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    run_argon2(&params, password.as_bytes(), salt_bytes, &mut out).map_err(|e| err(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| err(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| err(&e))?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a stored PHC string (its own algorithm, version and cost).
/// Anything unparsable is simply "no".
pub fn verify_blocking(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    if Algorithm::try_from(parsed.algorithm) != Ok(Algorithm::Argon2id) {
        return false;
    }
    if parsed
        .version
        .is_some_and(|v| v != u32::from(Version::V0x13))
    {
        return false;
    }
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if run_argon2(&params, password.as_bytes(), salt_bytes, &mut out).is_err() {
        return false;
    }
    out.ct_eq(expected.as_bytes()).into()
}

/// One Argon2id (v0x13) run into `out`, on the shared working memory.
fn run_argon2(
    params: &Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let blocks = params.block_count();
    if blocks > Params::DEFAULT.block_count() {
        // A costlier stored hash than ours: give it memory of its own, not a bigger shared one.
        return argon2.hash_password_into_with_memory(
            password,
            salt,
            out,
            vec![Block::default(); blocks],
        );
    }
    // The memory holds nothing worth protecting between runs (each run overwrites what it
    // reads), so a panic elsewhere while it was held does not make it unusable.
    let mut memory = WORK_MEMORY.lock().unwrap_or_else(PoisonError::into_inner);
    memory.resize(blocks, Block::default());
    let result = argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..blocks]);
    *memory = Vec::new();
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_the_owasp_parameters() {
        let phc = hash_blocking("correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_blocking("correct horse", &phc));
        assert!(!verify_blocking("wrong horse", &phc));
        assert!(!verify_blocking("anything", "not a phc string"));
    }

    #[test]
    fn our_hashes_are_exactly_what_the_argon2_crate_makes_and_verifies() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let phc = hash_blocking("correct horse").unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        // The crate's own verifier accepts our hash …
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
        // … and with the same salt, the crate's own hasher makes the same string.
        let same = Argon2::default()
            .hash_password(b"correct horse", parsed.salt.unwrap())
            .unwrap();
        assert_eq!(same.to_string(), phc);
        // And we verify a hash the crate made.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"battery staple", &salt)
            .unwrap();
        assert!(verify_blocking("battery staple", &theirs.to_string()));
        assert!(!verify_blocking("battery stapler", &theirs.to_string()));
    }

    #[test]
    fn hashes_of_other_argon2_variants_do_not_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut OsRng);
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::default());
        let phc = argon2i.hash_password(b"pw", &salt).unwrap().to_string();
        assert!(!verify_blocking("pw", &phc));
    }
}
