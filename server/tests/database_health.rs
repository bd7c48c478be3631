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
    assert!(
        body["message"].as_str().unwrap().contains("refuses writes"),
        "{body}"
    );
    make_writes_fail(&server, false).await;
    assert_eq!(health(&server).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_deleted_or_replaced_sqlite_file_fails_the_health_check() {
    let server = start().await;
    let Some(path) = server.sqlite_path().map(|p| p.to_path_buf()) else {
        return; // PostgreSQL run: there is no file to lose.
    };
    assert_eq!(health(&server).await.0, StatusCode::OK);
    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = health(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("was deleted"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");

    std::fs::write(&path, b"").unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, body) = health(&server).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["message"].as_str().unwrap().contains("was replaced"),
        "{body}"
    );
}
