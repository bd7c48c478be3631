//! Slow, silent and very many clients (issue 15, items 7–8): a header-read timeout that is also
//! the idle keep-alive timeout, a connection cap, accept errors that back off, and a graceful
//! shutdown that ends at its deadline. Real sockets throughout.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use tokenpair_testkit::ServerProcess;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const BIN: &str = env!("CARGO_BIN_EXE_tokenpair-server");

/// Waits until the server closes `stream` (EOF or reset); returns how long that took.
async fn closed_after(mut stream: TcpStream, patience: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(patience, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue, // a response (e.g. 408) before the close
            Err(_) => panic!("the connection was still open after {patience:?}"),
        }
    }
}

#[tokio::test]
async fn a_silent_connection_and_a_half_sent_request_head_are_closed_at_the_header_timeout() {
    let server = start_with(|c| c.network.header_read_timeout = Duration::from_secs(1)).await;
    let silent = TcpStream::connect(server.addr).await.unwrap();
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        closed_after(silent, Duration::from_secs(10)),
        closed_after(partial, Duration::from_secs(10))
    );
    for took in [a, b] {
        assert!(took >= Duration::from_millis(900), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_the_same_timeout() {
    let server = start_with(|c| c.network.header_read_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let took = closed_after(stream, Duration::from_secs(10)).await;
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn at_the_connection_cap_new_clients_wait_and_are_served_once_silent_ones_are_dropped() {
    let server = start_with(|c| {
        c.network.header_read_timeout = Duration::from_secs(1);
        c.network.max_connections = 3;
    })
    .await;
    let mut silent = Vec::new();
    for _ in 0..3 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let health = client()
        .get(server.url("/api/health"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("served once a slot is free");
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited for a slot: {:?}",
        started.elapsed()
    );
    drop(silent);
}

#[tokio::test]
async fn shutdown_ends_at_its_deadline_even_with_a_client_holding_a_half_sent_request() {
    let mut server = start_with(|c| {
        c.network.header_read_timeout = Duration::from_secs(60);
        c.network.shutdown_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stuck = TcpStream::connect(server.addr).await.unwrap();
    stuck
        .write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    server.shutdown_within(Duration::from_secs(5)).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    drop(stuck);
}

/// The real binary with an open-files limit of 64 (soft and hard), on a seeded SQLite file.
fn spawn_with_few_file_descriptors(dir: &std::path::Path, extra: &[&str]) -> ServerProcess {
    let url = format!("sqlite://{}", dir.join("t.db").display());
    let mut cmd = Command::new("/bin/sh");
    cmd.env_clear()
        .env(
            "SIGNING_KEY_ENCRYPTION_KEY",
            "a-key-encryption-key-of-at-least-32-bytes",
        )
        .args(["-c", "ulimit -n 64 && exec \"$0\" \"$@\"", BIN])
        .args(["--host", "127.0.0.1", "--port", "0", "--database-url", &url])
        .args(extra)
        .stdin(Stdio::null());
    ServerProcess::spawn(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_file_descriptors_accept_backs_off_logs_rarely_and_the_server_recovers() {
    let dir = tempfile::tempdir().unwrap();
    // A cap far above the descriptor limit, so `accept` itself fails.
    let running = spawn_with_few_file_descriptors(
        dir.path(),
        &[
            "--max-connections",
            "1000",
            "--header-read-timeout",
            "2s",
            "--shutdown-timeout",
            "1s",
        ],
    );
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut hogs = Vec::new();
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(&addr).await {
            hogs.push(s);
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(hogs);
    // The silent ones were dropped at the header timeout; the server serves again.
    let health = client()
        .get(format!("{}/api/health", running.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("served after the flood");
    assert_eq!(health.status(), StatusCode::OK);
    let started = Instant::now();
    let log = tokio::task::spawn_blocking(move || running.stop())
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    let warnings = log.matches("accept failed").count();
    assert!(warnings >= 1, "the accept errors are logged: {log}");
    assert!(
        warnings <= 2,
        "… but not in a loop ({warnings} lines): {log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_cap_a_descriptor_flood_never_makes_accept_fail() {
    let dir = tempfile::tempdir().unwrap();
    let running = spawn_with_few_file_descriptors(dir.path(), &["--header-read-timeout", "2s"]);
    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut hogs = Vec::new();
    for _ in 0..100 {
        if let Ok(s) = TcpStream::connect(&addr).await {
            hogs.push(s);
        }
    }
    let health = client()
        .get(format!("{}/api/health", running.base))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("served once silent connections time out");
    assert_eq!(health.status(), StatusCode::OK);
    drop(hogs);
    let log = tokio::task::spawn_blocking(move || running.stop())
        .await
        .unwrap();
    assert!(!log.contains("accept failed"), "{log}");
    assert!(log.contains("connection limit reached"), "{log}");
}

/// A login body trickling in a byte at a time — each byte well within the idle timeout — is
/// cut off once the whole body has taken the timeout: 408 `request_timeout`, connection closed.
#[tokio::test]
async fn a_request_body_trickling_in_is_cut_off_at_the_timeout_in_total() {
    let server = start_with(|c| c.network.header_read_timeout = Duration::from_secs(2)).await;
    let body = format!(r#"{{"username":"user1","password":"{}"}}"#, "x".repeat(200));
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /api/auth/login HTTP/1.1\r\nHost: {}\r\nX-Requested-With: XMLHttpRequest\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    // One byte every 500 ms: 240 bytes would take two minutes.
    let trickle = tokio::spawn(async move {
        for byte in body.into_bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), reader.read_to_end(&mut answer)).await;
    trickle.abort();
    let took = started.elapsed();
    assert!(read.is_ok(), "the connection was still open after 15 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "{took:?}"
    );
}

/// A client that asks for a large file and then reads nothing holds its connection only until
/// the timeout: the server gives up writing and closes it.
#[tokio::test]
async fn a_client_that_stops_reading_its_response_is_disconnected_at_the_timeout() {
    const SIZE: usize = 64 * 1024 * 1024;
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(dist.path().join("index.html"), "<!doctype html>").unwrap();
    std::fs::write(dist.path().join("big.bin"), vec![7u8; SIZE]).unwrap();
    let static_dir = dist.path().to_path_buf();
    let server = start_with(move |c| {
        c.network.header_read_timeout = Duration::from_secs(2);
        c.static_dir = static_dir;
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // Read nothing for three timeouts' worth.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "still receiving after 20 s: {got} bytes");
    assert!(
        got < SIZE,
        "the server wrote the whole file ({got} bytes) instead of giving up"
    );
}
