//! The periodic prune job (every instance runs it; on PostgreSQL concurrent passes are
//! harmless): ended sessions (one row each; one that lapsed unnoticed gets its
//! `session_expired` event as it goes), quiet login-throttle counters, security events past
//! their retention or beyond the per-user bound, DPoP proof ids past their window, passkey ceremonies past their 5 minutes, and revocations whose access tokens have all
//! expired. This is what keeps the tables bounded.

use std::time::Duration;

use crate::clock::Timestamp;
use crate::db::DbError;
use crate::sessions::store::Pruned;
use crate::state::AppState;

pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// One pass at time `now` (unix ms).
pub async fn prune(state: &AppState, now: Timestamp) -> Result<Pruned, DbError> {
    let pruned = state.sessions.prune(now).await?;
    state.throttle.prune(now).await?;
    state.events.prune(now).await?;
    crate::dpop::replay::prune(&state.db, now).await?;
    crate::passkeys::ceremonies::prune(&state.db, now).await?;
    if pruned.sessions > 0 {
        state.db.reclaim_space().await?;
    }
    Ok(pruned)
}

/// Runs [`prune`] every [`PRUNE_EVERY`] until the returned task is aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PRUNE_EVERY);
        loop {
            every.tick().await;
            match prune(&state, state.clock.now()).await {
                Ok(p) if p.sessions > 0 => {
                    tracing::info!(sessions = p.sessions, "pruned ended sessions")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "prune failed"),
            }
        }
    })
}
