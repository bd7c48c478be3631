//! The prune job never scans a table (issue 22, item 10): each of its deletes is answered
//! through indexes, on SQLite (`EXPLAIN QUERY PLAN`) and on PostgreSQL (`EXPLAIN` with
//! sequential scans priced out, so a plan without a usable index still shows `Seq Scan`).

mod common;

use common::*;
use sqlx::Row;
use tokenpair_server::db::Backend;

/// The plan of `sql` (two bound integers), one line per node.
async fn plan(server: &TestServer, sql: &str) -> Vec<String> {
    let db = &server.state.db;
    let mut tx = db.pool.begin().await.expect("a transaction");
    let explain = match db.backend {
        Backend::Sqlite => format!("EXPLAIN QUERY PLAN {sql}"),
        Backend::Postgres => {
            sqlx::query("SET LOCAL enable_seqscan = off")
                .execute(&mut *tx)
                .await
                .expect("price out sequential scans");
            format!("EXPLAIN {sql}")
        }
    };
    let rows = sqlx::query(&explain)
        .bind(1_i64)
        .bind(2_i64)
        .fetch_all(&mut *tx)
        .await
        .expect("explain");
    tx.rollback().await.expect("rollback");
    let column = match db.backend {
        Backend::Sqlite => 3, // id, parent, notused, detail
        Backend::Postgres => 0,
    };
    rows.iter()
        .map(|r| r.try_get::<String, _>(column).expect("a plan line"))
        .collect()
}

fn scans(plan: &[String], table: &str) -> bool {
    plan.iter().any(|line| {
        line.starts_with(&format!("SCAN {table}")) || line.contains(&format!("Seq Scan on {table}"))
    })
}

#[tokio::test]
async fn pruning_ended_sessions_uses_indexes_not_a_table_scan() {
    let server = start().await;
    let plan = plan(&server, tokenpair_server::sessions::store::PRUNE_SESSIONS).await;
    assert!(!scans(&plan, "sessions"), "{plan:#?}");
}

#[tokio::test]
async fn pruning_quiet_throttle_counters_uses_an_index_not_a_table_scan() {
    let server = start().await;
    let plan = plan(&server, tokenpair_server::throttle::PRUNE).await;
    assert!(!scans(&plan, "login_throttle"), "{plan:#?}");
}

#[tokio::test]
async fn pruning_expired_passkey_ceremonies_uses_an_index_not_a_table_scan() {
    let server = start().await;
    let plan = plan(&server, tokenpair_server::passkeys::ceremonies::PRUNE).await;
    assert!(!scans(&plan, "webauthn_ceremonies"), "{plan:#?}");
}
