//! The yardstick: a bare axum handler that answers `GET /api/me` with the same JSON as the
//! real one — no layers, no token, no checks. `tokenpair-bench --serve-bare` runs it as its own
//! process (like the real server) and prints the same readiness line.

use axum::routing::get;
use axum::{Json, Router};
use tokenpair_api::Me;

use crate::load::BoxError;

pub async fn serve() -> Result<(), BoxError> {
    let me = Me {
        id: 1,
        username: "user1".into(),
        created_at: "2026-11-27T08:00:00Z".into(),
    };
    let app = Router::new().route(
        "/api/me",
        get(move || {
            let me = me.clone();
            async move { Json(me) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        })
        .await?;
    Ok(())
}
