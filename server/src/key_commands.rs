//! `tokenpair-server keys list|rotate`: the Ed25519 signing keys of the database named by
//! `DATABASE_URL`, from the command line (the server may be running meanwhile).

use std::fmt::Write as _;

use crate::config::{Config, KeysAction};
use crate::db::{now_ms, rfc3339, Db, DbError};
use crate::tokens::key_store::{self, KeySchedule, KeyState, KeyStatus, JWKS_MAX_AGE};

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(
        "ACCESS_TOKEN_SECRET is set, so access tokens are HS256 under that secret and there are \
         no signing keys to manage; unset it to sign with Ed25519 keys from the database"
    )]
    Hs256Mode,
    #[error("cannot open the database {database}: {source}")]
    Database { database: String, source: DbError },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Runs the command; returns what to print.
pub async fn run(config: &Config, action: KeysAction) -> Result<String, KeysError> {
    if config.tokens.access_token_secret.is_some() {
        return Err(KeysError::Hs256Mode);
    }
    let db = Db::connect(&config.database)
        .await
        .map_err(|source| KeysError::Database {
            database: config.database.describe(),
            source,
        })?;
    let schedule = KeySchedule::from_config(&config.tokens);
    let mut out = String::new();
    if let KeysAction::Rotate = action {
        let rotated = key_store::rotate(&db, &schedule, now_ms()).await?;
        let _ = writeln!(
            out,
            "rotated: {} signs from now on; {} is the next key (published now, signs from {})",
            rotated.current,
            rotated.next,
            rfc3339(now_ms() + crate::db::ms(schedule.rotation)),
        );
        if rotated.published_for < JWKS_MAX_AGE {
            let _ = writeln!(
                out,
                "warning: {} was published only {} s ago; a verifier that cached the JWKS \
                 before (for up to {} s) must refetch it when it meets the new kid",
                rotated.current,
                rotated.published_for.as_secs(),
                JWKS_MAX_AGE.as_secs()
            );
        }
        let _ = writeln!(
            out,
            "running instances pick the change up within {} s",
            key_store::RELOAD_EVERY.as_secs()
        );
    }
    let keys = key_store::load(&db, &schedule.encryption).await?;
    out.push_str(&table(&schedule.statuses(&keys, now_ms())));
    db.close().await;
    Ok(out)
}

fn table(statuses: &[KeyStatus]) -> String {
    if statuses.is_empty() {
        return "no signing keys yet: the server creates them at its first start\n".into();
    }
    let mut out = format!(
        "{:<25} {:<8} {:<21} {:<21} {:<21} {:<21}\n",
        "KID", "STATE", "PUBLISHED", "SIGNS FROM", "SIGNS UNTIL", "UNPUBLISHED"
    );
    let time = |t: Option<i64>| t.map_or_else(|| "-".to_owned(), rfc3339);
    for s in statuses {
        let state = match s.state {
            KeyState::Next => "next",
            KeyState::Current => "current",
            KeyState::Retired => "retired",
        };
        let _ = writeln!(
            out,
            "{:<25} {:<8} {:<21} {:<21} {:<21} {:<21}",
            s.key.kid,
            state,
            rfc3339(s.key.created_at),
            rfc3339(s.key.activates_at),
            time(s.signs_until),
            time(s.unpublished_at),
        );
    }
    out
}
