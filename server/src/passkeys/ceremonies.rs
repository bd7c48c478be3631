//! **The single-use challenges**: a ceremony's state between its two requests (the options,
//! then the authenticator's answer), in the `webauthn_ceremonies` table, keyed by its
//! challenge. The answer takes its ceremony by the challenge its `clientDataJSON` names, with
//! one `DELETE … RETURNING`: whatever the outcome, that ceremony is gone — on every instance
//! (the table is shared on PostgreSQL) — so a replayed answer, a reused challenge or one from
//! another instance's finished ceremony finds nothing. webauthn-rs itself never consumes a
//! state: the same answer verifies twice against the same state.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::PasskeyError;
use crate::clock::{Clock, Timestamp};
use crate::db::{ms, Db, DbError};
use crate::ids::UserId;

/// How long a ceremony may be finished (also the `timeout` its options give the browser).
pub const LIFETIME: Duration = Duration::from_secs(300);

/// The prune job's delete: `$1` = now.
pub const PRUNE: &str = "DELETE FROM webauthn_ceremonies WHERE expires_at < $1";

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ceremony {
    /// Adding a passkey to a signed-in user's account.
    Registration,
    /// A sign-in or re-authentication (usernameless: the passkey says whose it is).
    Authentication,
}

impl Ceremony {
    fn as_str(self) -> &'static str {
        match self {
            Ceremony::Registration => "registration",
            Ceremony::Authentication => "authentication",
        }
    }
}

/// A ceremony taken for its answer.
#[derive(Debug)]
pub struct Taken<S> {
    /// The user who started it (a registration); `None` for a sign-in.
    pub user_id: Option<UserId>,
    pub state: S,
}

#[derive(sqlx::FromRow)]
struct Row {
    user_id: Option<UserId>,
    state: String,
}

/// The ceremonies table.
#[derive(Clone, Debug)]
pub struct Ceremonies {
    db: Db,
    clock: Clock,
}

impl Ceremonies {
    pub fn new(db: Db, clock: Clock) -> Ceremonies {
        Ceremonies { db, clock }
    }

    /// Keeps `state` until its answer comes back (at most [`LIFETIME`]). `challenge`: the raw
    /// challenge bytes the options carry.
    pub async fn begin<S: Serialize>(
        &self,
        kind: Ceremony,
        challenge: &[u8],
        user_id: Option<UserId>,
        state: &S,
    ) -> Result<(), PasskeyError> {
        let state = serde_json::to_string(state)
            .map_err(|e| PasskeyError::Internal(format!("serialising a ceremony: {e}")))?;
        let expires_at = self.clock.now_ms() + ms(LIFETIME);
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (challenge, kind, user_id, state, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(URL_SAFE_NO_PAD.encode(challenge))
        .bind(kind.as_str())
        .bind(user_id)
        .bind(state)
        .bind(expires_at)
        .execute(&self.db.pool)
        .await
        .map_err(DbError::from)?;
        Ok(())
    }

    /// Takes (deletes) the unexpired `kind` ceremony whose challenge the answer's
    /// `clientDataJSON` names. `None`: no such ceremony — unknown, expired or already taken.
    pub async fn take<S: DeserializeOwned>(
        &self,
        kind: Ceremony,
        client_data_json: &[u8],
    ) -> Result<Option<Taken<S>>, PasskeyError> {
        let Some(challenge) = challenge_of(client_data_json) else {
            return Ok(None);
        };
        let row: Option<Row> = sqlx::query_as(
            "DELETE FROM webauthn_ceremonies
             WHERE challenge = $1 AND kind = $2 AND expires_at > $3
             RETURNING user_id, state",
        )
        .bind(challenge)
        .bind(kind.as_str())
        .bind(self.clock.now_ms())
        .fetch_optional(&self.db.pool)
        .await
        .map_err(DbError::from)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let state = serde_json::from_str(&row.state)
            .map_err(|e| PasskeyError::Internal(format!("a stored ceremony: {e}")))?;
        Ok(Some(Taken {
            user_id: row.user_id,
            state,
        }))
    }
}

/// The expired ceremonies go (the prune job, every instance).
pub async fn prune(db: &Db, now: Timestamp) -> Result<u64, DbError> {
    let done = sqlx::query(PRUNE).bind(now.ms()).execute(&db.pool).await?;
    Ok(done.rows_affected())
}

/// The challenge a `clientDataJSON` names, as the table keys it (base64url without padding):
/// its `challenge` member, decoded and encoded again so padding cannot make a second key.
/// Nothing else is read here — webauthn-rs checks the rest.
fn challenge_of(client_data_json: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct ClientData {
        challenge: String,
    }
    let data: ClientData = serde_json::from_slice(client_data_json).ok()?;
    let bytes = URL_SAFE_NO_PAD
        .decode(data.challenge.trim_end_matches('='))
        .ok()?;
    (!bytes.is_empty()).then(|| URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_read_from_client_data_with_or_without_padding() {
        let cd =
            br#"{"type":"webauthn.get","challenge":"AAECAw","origin":"http://localhost:8080"}"#;
        assert_eq!(challenge_of(cd).as_deref(), Some("AAECAw"));
        let padded = br#"{"challenge":"AAECAw==","type":"webauthn.get"}"#;
        assert_eq!(challenge_of(padded).as_deref(), Some("AAECAw"));
        for bad in [
            &b"not json"[..],
            br#"{"type":"webauthn.get"}"#,
            br#"{"challenge":"!!"}"#,
            br#"{"challenge":""}"#,
        ] {
            assert_eq!(challenge_of(bad), None);
        }
    }
}
