//! The database vanishing or refusing writes shows up (issue 15, item 12): `GET /api/health`
//! answers 503 saying why, and the log says so too.

mod common;

use common::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn health(server: &TestServer) -> (StatusCode, Value) {
    let r = server.get("/api/health").send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn health_is_ok_while_the_database_takes_writes_and_503_when_it_does_not() {
    let server = start().await;
    assert_eq!(health(&server).await.0, StatusCode::OK);
    make_writes_fail(&server, true).await;
    let (status, body) = health(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["error"], "database_unavailable");
    let message = body["message"].as_str().unwrap();
    assert_eq!(message, "the database refuses writes", "{body}");
    make_writes_fail(&server, false).await;
    assert_eq!(health(&server).await.0, StatusCode::OK);
}

/// Until the health check says `needle` (it reuses a result for a second), then its answer.
async fn health_saying(server: &TestServer, needle: &str) -> (StatusCode, Value) {
    let last = std::cell::RefCell::new(None);
    wait_for(&format!("the health check to say {needle:?}"), || {
        let last = &last;
        async move {
            let (status, body) = health(server).await;
            let said = body["message"].as_str().is_some_and(|m| m.contains(needle));
            *last.borrow_mut() = Some((status, body));
            said
        }
    })
    .await;
    last.into_inner().expect("one answer at least")
}

/// The file itself is SQLite's alone (the PostgreSQL pass skips `sqlite_file::`).
mod sqlite_file {
    use super::*;

    #[tokio::test]
    async fn a_deleted_or_replaced_sqlite_file_fails_the_health_check() {
        let server = start().await;
        let path = server
            .sqlite_path()
            .expect("an SQLite run (the PostgreSQL pass skips sqlite_file::)")
            .to_path_buf();
        assert_eq!(health(&server).await.0, StatusCode::OK);
        std::fs::remove_file(&path).unwrap();
        let (status, body) = health_saying(&server, "was deleted").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        // The endpoint is public: what kind of failure, never where the file is.
        let message = body["message"].as_str().unwrap();
        assert!(!message.contains(&path.display().to_string()), "{message}");
        assert!(
            !message.contains(path.file_name().unwrap().to_str().unwrap()),
            "{message}"
        );

        std::fs::write(&path, b"").unwrap();
        let (status, _) = health_saying(&server, "was replaced").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
}
