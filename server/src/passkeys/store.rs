//! **The `passkeys` rows** and each user's WebAuthn user handle. A row keeps webauthn-rs'
//! `Passkey` as JSON (the public key, the counter, the flags) and, in columns, what the API
//! lists and the counter check needs. Adding, renaming and deleting record their security
//! event in the same transaction.

use tokenpair_api::PasskeyInfo;
use webauthn_rs::prelude::{AuthenticationResult, Passkey, Uuid};

use super::{internal, PasskeyError, PasskeyName, Passkeys, Refusal};
use crate::db::{rfc3339, DbError};
use crate::ids::{could_be_session_id, random_id, UserId};
use crate::security_events::{Client, Event, Kind};

/// One passkey of a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredPasskey {
    pub id: String,
    pub user_id: UserId,
    /// base64url, as the browser's `credential.id`.
    pub credential_id: String,
    pub name: String,
    /// webauthn-rs' `Passkey`, JSON.
    pub passkey: String,
    pub counter: i64,
    pub backup_eligible: i64,
    pub backed_up: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, credential_id, name, passkey, counter, backup_eligible, \
                       backed_up, created_at, last_used_at";

impl StoredPasskey {
    pub fn to_api(&self) -> PasskeyInfo {
        PasskeyInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            created_at: rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(rfc3339),
            backup_eligible: self.backup_eligible != 0,
            backed_up: self.backed_up != 0,
        }
    }

    /// The stored `Passkey`.
    pub(super) fn key(&self) -> Result<Passkey, PasskeyError> {
        serde_json::from_str(&self.passkey).map_err(|e| internal("a stored passkey", e))
    }
}

/// What the columns keep of a `Passkey` (it has no accessors for them; its JSON does).
struct Facts {
    credential_id: String,
    counter: i64,
    backup_eligible: bool,
    backed_up: bool,
}

fn facts(passkey: &Passkey) -> Result<(String, Facts), PasskeyError> {
    let json = serde_json::to_value(passkey).map_err(|e| internal("a new passkey", e))?;
    let cred = &json["cred"];
    let credential_id = serde_json::to_value(passkey.cred_id())
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| internal("a new passkey", "no credential id"))?;
    let facts = Facts {
        credential_id,
        counter: cred["counter"].as_i64().unwrap_or(0),
        backup_eligible: cred["backup_eligible"].as_bool().unwrap_or(false),
        backed_up: cred["backup_state"].as_bool().unwrap_or(false),
    };
    Ok((json.to_string(), facts))
}

impl Passkeys {
    /// `user_id`'s passkeys, oldest first.
    pub async fn list(&self, user_id: UserId) -> Result<Vec<StoredPasskey>, PasskeyError> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.db.pool)
        .await
        .map_err(DbError::from)?)
    }

    /// Renames `user_id`'s passkey `id` (a `passkey_renamed` event, detail: the new name).
    pub async fn rename(
        &self,
        user_id: UserId,
        id: &str,
        name: &PasskeyName,
        client: &Client,
    ) -> Result<StoredPasskey, PasskeyError> {
        // Not one of our ids (and PostgreSQL refuses text with a NUL byte): nothing to rename.
        if !could_be_session_id(id) {
            return Err(PasskeyError::NotFound);
        }
        let mut tx = self.db.begin_write().await?;
        let row: Option<StoredPasskey> = sqlx::query_as(&format!(
            "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3 RETURNING {COLUMNS}"
        ))
        .bind(name.as_str())
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let row = row.ok_or(PasskeyError::NotFound)?;
        let event = Event::new(Kind::PasskeyRenamed, self.clock.now(), Some(user_id))
            .client(client)
            .detail(name.as_str());
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await.map_err(DbError::from)?;
        recorded.log();
        Ok(row)
    }

    /// Deletes `user_id`'s passkey `id` (a `passkey_deleted` event, detail: its name).
    pub async fn delete(
        &self,
        user_id: UserId,
        id: &str,
        client: &Client,
    ) -> Result<(), PasskeyError> {
        if !could_be_session_id(id) {
            return Err(PasskeyError::NotFound);
        }
        let mut tx = self.db.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar(
            "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let name = name.ok_or(PasskeyError::NotFound)?;
        let event = Event::new(Kind::PasskeyDeleted, self.clock.now(), Some(user_id))
            .client(client)
            .detail(name);
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await.map_err(DbError::from)?;
        recorded.log();
        Ok(())
    }

    /// Stores a just-registered passkey (a `passkey_added` event, detail: its name). A
    /// credential already registered (by anyone) is refused.
    pub(super) async fn insert(
        &self,
        user_id: UserId,
        name: &PasskeyName,
        passkey: &Passkey,
        client: &Client,
    ) -> Result<StoredPasskey, PasskeyError> {
        let (json, facts) = facts(passkey)?;
        let now = self.clock.now();
        let mut tx = self.db.begin_write().await?;
        let row: Option<StoredPasskey> = sqlx::query_as(&format!(
            "INSERT INTO passkeys (id, user_id, credential_id, name, passkey, counter,
                                   backup_eligible, backed_up, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)
             ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(random_id(16))
        .bind(user_id)
        .bind(&facts.credential_id)
        .bind(name.as_str())
        .bind(json)
        .bind(facts.counter)
        .bind(i64::from(facts.backup_eligible))
        .bind(i64::from(facts.backed_up))
        .bind(now.ms())
        .fetch_optional(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let row = row.ok_or(PasskeyError::Refused(Refusal::AlreadyRegistered))?;
        let event = Event::new(Kind::PasskeyAdded, now, Some(user_id))
            .client(client)
            .detail(name.as_str());
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await.map_err(DbError::from)?;
        recorded.log();
        Ok(row)
    }

    /// Stores what a successful sign-in with `row` updated (`updated`: its `Passkey` after
    /// `update_credential`). Only while the stored counter is still below the new one (or both
    /// are 0, an authenticator that keeps none): `false` when another sign-in moved it past
    /// meanwhile — then nothing was written.
    pub(super) async fn record_use(
        &self,
        row: &StoredPasskey,
        updated: &Passkey,
        result: &AuthenticationResult,
    ) -> Result<bool, PasskeyError> {
        let json = serde_json::to_string(updated).map_err(|e| internal("a used passkey", e))?;
        let counter = i64::from(result.counter());
        let done = sqlx::query(
            "UPDATE passkeys SET passkey = $1, counter = $2, backed_up = $3, last_used_at = $4
             WHERE id = $5 AND (counter < $2 OR (counter = 0 AND $2 = 0))",
        )
        .bind(json)
        .bind(counter)
        .bind(i64::from(result.backup_state()))
        .bind(self.clock.now_ms())
        .bind(&row.id)
        .execute(&self.db.pool)
        .await
        .map_err(DbError::from)?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that `name`'s counter did not go up (`passkey_clone_suspected`, for its owner).
    pub(super) async fn clone_suspected(
        &self,
        user_id: UserId,
        name: &str,
        client: &Client,
    ) -> Result<(), PasskeyError> {
        tracing::warn!(
            user = user_id.0,
            passkey = name,
            "a passkey's signature counter did not go up: a cloned authenticator? Refused"
        );
        self.record(
            Event::new(Kind::PasskeyCloneSuspected, self.clock.now(), Some(user_id))
                .client(client)
                .detail(name),
        )
        .await
    }

    /// Records `event` on its own.
    pub(super) async fn record(&self, event: Event) -> Result<(), PasskeyError> {
        let mut tx = self.db.begin().await?;
        let recorded = self.events.record(&mut tx, event).await?;
        tx.commit().await.map_err(DbError::from)?;
        recorded.log();
        Ok(())
    }

    /// `user_id`'s WebAuthn user handle, made at their first passkey registration.
    pub(super) async fn user_handle(&self, user_id: UserId) -> Result<Uuid, PasskeyError> {
        sqlx::query(
            "UPDATE users SET webauthn_handle = $1 WHERE id = $2 AND webauthn_handle IS NULL",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(user_id)
        .execute(&self.db.pool)
        .await
        .map_err(DbError::from)?;
        let handle: Option<Option<String>> =
            sqlx::query_scalar("SELECT webauthn_handle FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(DbError::from)?;
        let handle = handle
            .flatten()
            .ok_or_else(|| internal("a user handle", format!("no user {user_id}")))?;
        Uuid::parse_str(&handle).map_err(|e| internal("a stored user handle", e))
    }

    /// The user whose handle `handle` is: (id, username).
    pub(super) async fn user_of_handle(
        &self,
        handle: Uuid,
    ) -> Result<Option<(UserId, String)>, PasskeyError> {
        Ok(
            sqlx::query_as("SELECT id, username FROM users WHERE webauthn_handle = $1")
                .bind(handle.to_string())
                .fetch_optional(&self.db.pool)
                .await
                .map_err(DbError::from)?,
        )
    }
}
