//! Serving connections: HTTP/1.1 over TCP, with the limits that keep slow, silent or very many
//! clients from taking the server down (`axum::serve` has none of these knobs).
//!
//! * **Header-read timeout** (`HEADER_READ_TIMEOUT`): from the moment the server waits for a
//!   request head — on a new connection, and on a kept-alive one after each response — the
//!   complete head must arrive within it, or the connection is closed. So it is also the idle
//!   keep-alive timeout: a silent socket costs a file descriptor for at most this long. A
//!   request body gets the same time in total on the routes that read one
//!   ([`crate::http::body_deadline`]), and a response that cannot be written for that long — the
//!   client stopped reading — ends the connection ([`crate::http::write_deadline`]).
//! * **Connection cap** (`MAX_CONNECTIONS`, by default ¾ of the open-files limit): at the cap
//!   the server stops accepting; new connections wait in the kernel's listen queue until one
//!   closes, instead of the process running out of descriptors (which would break the
//!   database and static files too).
//! * **Accept errors back off**: a failing `accept` (out of descriptors, out of memory) is
//!   retried after 5 ms, doubling up to 1 s, and logged at most every 10 s — no busy loop.
//! * **Graceful shutdown with a deadline** (`SHUTDOWN_TIMEOUT`): on the signal the listener
//!   closes, idle connections close at once, requests in flight may finish; whatever is still
//!   open at the deadline — say a client that never finishes its request — is dropped, and
//!   [`serve_connections`] returns.
//!
//! HTTP/2 is not offered: browsers only speak it over TLS, which a reverse proxy in front of
//! this server terminates.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::http::write_deadline::WriteDeadline;

/// The knobs of [`serve_connections`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

const ACCEPT_BACKOFF_START: Duration = Duration::from_millis(5);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);
const WARN_EVERY: Duration = Duration::from_secs(10);

/// The default connection cap: three quarters of the open-files limit (the rest is for the
/// database, static files and the runtime), at least 16.
pub fn default_max_connections() -> usize {
    (open_files_limit() / 4 * 3).max(16)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn open_files_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        usize::try_from(limit.rlim_cur)
            .unwrap_or(usize::MAX)
            .min(1 << 20)
    } else {
        1024
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn open_files_limit() -> usize {
    1024
}

/// Raises the soft open-files limit to the hard one (what servers usually want; the default
/// soft limit of 1024 is for interactive shells). Best effort.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn raise_open_files_limit() {}

/// Accepts and serves connections until `shutdown` resolves, then shuts down gracefully
/// within `limits.shutdown_timeout` (see the module docs).
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut connections = JoinSet::new();
    let mut backoff = Duration::ZERO;
    let mut last_warning: Option<Instant> = None;
    let mut suppressed = 0u64;
    tokio::pin!(shutdown);

    loop {
        while connections.try_join_next().is_some() {}
        if slots.available_permits() == 0 {
            warn_now_and_then(&mut last_warning, &mut suppressed, || {
                tracing::warn!(
                    max = limits.max_connections,
                    "connection limit reached; new connections wait until one closes"
                )
            });
        }
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff = Duration::ZERO;
                    accepted
                }
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    backoff = (backoff * 2).clamp(ACCEPT_BACKOFF_START, ACCEPT_BACKOFF_MAX);
                    warn_now_and_then(&mut last_warning, &mut suppressed, || {
                        tracing::warn!(error = %e, retry_in = ?backoff, "accept failed")
                    });
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            });
        // A response the client stops reading fails after the same timeout.
        let io = WriteDeadline::new(stream, limits.header_read_timeout);
        let connection = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            let _slot = slot;
            if let Err(e) = connection.await {
                tracing::debug!(%remote, error = %e, "connection ended with an error");
            }
        });
    }

    drop(listener);
    let open = graceful.count();
    tracing::info!(
        open,
        "shutting down: no new connections; waiting for requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                timeout = ?limits.shutdown_timeout,
                "shutdown deadline passed; closing the connections still open"
            );
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

/// Errors that concern one connection only (the next `accept` is fine).
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

/// Runs `warn` at most every [`WARN_EVERY`]; counts what it skipped.
fn warn_now_and_then(last: &mut Option<Instant>, suppressed: &mut u64, warn: impl FnOnce()) {
    if last.is_some_and(|at| at.elapsed() < WARN_EVERY) {
        *suppressed += 1;
        return;
    }
    if *suppressed > 0 {
        tracing::warn!(
            repeats = *suppressed,
            "(the warning below repeated since the last one)"
        );
    }
    *suppressed = 0;
    *last = Some(Instant::now());
    warn();
}
