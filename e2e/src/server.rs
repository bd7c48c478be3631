//! The real release server (serving the release SPA from `dist/`) on loopback, with a fresh
//! SQLite file per [`Server`].

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A fixed secret, so a restarted server accepts the access tokens it issued before.
const TEST_SECRET: &str = "e2e-only-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/// The repository root, found at run time: the test binary may have been built from another
/// checkout that shares the cargo target directory, so `env!("CARGO_MANIFEST_DIR")` could point
/// somewhere stale. `cargo test` runs test binaries from the package directory (`e2e/`).
fn repo_root() -> PathBuf {
    let e2e = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    e2e.join("..")
}

/// The release server binary: `TOKENPAIR_SERVER_BIN`, or the shared target directory's,
/// checked once per run to be newer than the sources it is built from — a bare
/// `cargo test -p tokenpair-e2e` after an edit would otherwise test yesterday's server.
fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TOKENPAIR_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    let bin = target.join("release").join("tokenpair-server");
    static CHECKED: std::sync::Once = std::sync::Once::new();
    CHECKED.call_once(|| {
        let root = repo_root();
        let sources = [
            "server/src",
            "server/migrations",
            "server/Cargo.toml",
            "api/src",
        ]
        .iter()
        .map(|p| root.join(p))
        .chain([root.join("api/Cargo.toml"), root.join("Cargo.lock")]);
        if let Some(stale) = stale_against(&bin, sources) {
            panic!(
                "{} is older than {}: run `make server` (or `cargo build --release -p \
                 tokenpair-server`) first — `make test` and `make e2e` do",
                bin.display(),
                stale.display()
            );
        }
    });
    bin
}

/// The first source file newer than `built`, if any (a missing `built` is not stale here:
/// the caller says how to build it).
fn stale_against(built: &Path, sources: impl Iterator<Item = PathBuf>) -> Option<PathBuf> {
    let built_at = std::fs::metadata(built).and_then(|m| m.modified()).ok()?;
    fn newer(path: &Path, than: std::time::SystemTime) -> Option<PathBuf> {
        let meta = std::fs::metadata(path).ok()?;
        if meta.is_dir() {
            std::fs::read_dir(path)
                .ok()?
                .flatten()
                .find_map(|entry| newer(&entry.path(), than))
        } else {
            meta.modified()
                .ok()
                .filter(|m| *m > than)
                .map(|_| path.to_owned())
        }
    }
    sources.into_iter().find_map(|s| newer(&s, built_at))
}

/// The built SPA (`trunk build --release` output) the server serves.
pub fn dist_dir() -> PathBuf {
    std::env::var("TOKENPAIR_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("dist"))
}

/// Token lifetimes and other settings for one server.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    pub access_token_expiry: &'static str,
    pub refresh_token_expiry: &'static str,
    pub extra_args: Vec<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            access_token_expiry: "3s",
            refresh_token_expiry: "1h",
            extra_args: Vec::new(),
        }
    }
}

/// The real server process. Killed on drop.
pub struct Server {
    child: Option<Child>,
    port: u16,
    options: ServerOptions,
    _data: tempfile::TempDir,
    /// `None`: no `ACCESS_TOKEN_SECRET`, so Ed25519 keys from the database.
    secret: Option<&'static str>,
    db_path: PathBuf,
    log_path: PathBuf,
}

impl Server {
    pub async fn start(options: ServerOptions) -> Server {
        Self::start_with_secret(options, Some(TEST_SECRET)).await
    }

    /// A server without `ACCESS_TOKEN_SECRET`: access tokens signed with Ed25519 keys from its
    /// database and published at `/.well-known/jwks.json` (what `make run` does).
    pub async fn start_ed25519(options: ServerOptions) -> Server {
        Self::start_with_secret(options, None).await
    }

    async fn start_with_secret(options: ServerOptions, secret: Option<&'static str>) -> Server {
        let bin = server_bin();
        assert!(
            bin.exists(),
            "no server binary at {} — run `make test` (it builds it)",
            bin.display()
        );
        assert!(
            dist_dir().join("index.html").exists(),
            "no built SPA in {} — run `make test` (it runs trunk build --release)",
            dist_dir().display()
        );
        let data = tempfile::tempdir().expect("temp dir");
        let db_path = data.path().join("e2e.db");
        let log_path = data.path().join("server.log");
        let mut server = Server {
            child: None,
            // 0 until the first start: the server binds `:0` and reports the port it got.
            port: 0,
            options,
            _data: data,
            secret,
            db_path,
            log_path,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("log file");
        let mut cmd = Command::new(server_bin());
        cmd.args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--static-dir")
            .arg(dist_dir())
            .arg("--database-url")
            .arg(format!("sqlite://{}", self.db_path.display()))
            .arg("--demo-users")
            .args(["--access-token-expiry", self.options.access_token_expiry])
            .args(["--refresh-token-expiry", self.options.refresh_token_expiry])
            .args(&self.options.extra_args)
            .envs(self.secret.map(|s| ("ACCESS_TOKEN_SECRET", s)))
            // 3-second access tokens refresh far more often than real ones: lift the
            // per-session refresh limit above what the journeys need (server tests cover it).
            .env("REFRESH_RATE_LIMIT", "120")
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let logged_before = std::fs::metadata(&self.log_path).map_or(0, |m| m.len() as usize);
        self.child = Some(cmd.spawn().expect("start tokenpair-server"));
        self.wait_until_ready(logged_before).await;
    }

    /// Waits for this start's readiness line (`listening on http://…`, the same signal
    /// `tokenpair-testkit` waits for), printed once the socket is bound and the state is ready,
    /// and takes the port from it: the first start binds `:0`, so no other process can take
    /// the port between choosing and binding it. A restart binds the same port again (the
    /// browser's origin and cookies depend on it).
    async fn wait_until_ready(&mut self, logged_before: usize) {
        let deadline = std::time::Instant::now() + tokenpair_testkit::START_TIMEOUT;
        loop {
            let log = self.log();
            if let Some(base) =
                tokenpair_testkit::ready_base(log.get(logged_before..).unwrap_or(""))
            {
                self.port = base
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or_else(|| panic!("no port in the readiness line {base:?}"));
                return;
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("tokenpair-server exited with {status} before it was ready:\n{log}");
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "tokenpair-server was not ready in time:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The server's own port (the browser goes through a [`crate::Proxy`] when a test
    /// injects faults: `Proxy::start(server.port())`).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// The same page at `http://localhost:PORT`: a valid WebAuthn relying-party id (an IP
    /// address never is), for the passkey journeys.
    pub fn localhost_url(&self, path: &str) -> String {
        format!("http://localhost:{}{}", self.port, path)
    }

    /// A sign-in from outside the browser (another device): its refresh token.
    pub async fn sign_in_elsewhere(&self, username: &str, password: &str) -> String {
        let answer = http_request_with_body(
            "POST",
            &self.url("/api/auth/login"),
            &[
                ("Content-Type", "application/json"),
                ("X-Requested-With", "XMLHttpRequest"),
            ],
            &serde_json::json!({"username": username, "password": password}).to_string(),
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| v.strip_prefix("__Secure-refresh_token="))
            .and_then(|v| v.split(';').next())
            .expect("the refresh cookie")
            .to_owned()
    }

    /// Whether the session of `refresh_token` is alive: a refresh from outside rotates it
    /// (and returns the new token), or is refused.
    pub async fn refresh_elsewhere(&self, refresh_token: &str) -> Option<String> {
        let cookie = format!("__Secure-refresh_token={refresh_token}");
        let answer = http_request(
            "POST",
            &self.url("/api/auth/refresh"),
            &[("Cookie", &cookie), ("X-Requested-With", "XMLHttpRequest")],
        )
        .await;
        (answer.status == 200).then(|| {
            answer
                .headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
                .find_map(|(_, v)| v.strip_prefix("__Secure-refresh_token="))
                .and_then(|v| v.split(';').next())
                .unwrap_or_default()
                .to_owned()
        })
    }

    /// Stops the process (the database file stays).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
            let _ = child.wait().await;
        }
    }

    /// Starts again on the same port and database file.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.spawn().await;
    }

    /// Restarts with a new access-token key (and no previous one): every access token issued
    /// so far is refused with 401 from now on, while sessions (refresh cookies) still work.
    pub async fn restart_with_new_key(&mut self, secret: &'static str) {
        self.stop().await;
        self.secret = Some(secret);
        self.spawn().await;
    }

    /// Starts a stopped server again on the same port and database file.
    pub async fn start_again(&mut self) {
        if self.child.is_none() {
            self.spawn().await;
        }
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

/// A plain `GET` (no cookies, no `Accept-Encoding`) and its answer.
#[derive(Clone, Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpAnswer {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET url` as a plain HTTP client would: what the server sends before any script runs.
pub async fn http_get(url: &str) -> HttpAnswer {
    http_request("GET", url, &[]).await
}

/// `method url` with `headers` and no body, from outside any browser (a script, an attacker).
pub async fn http_request(method: &str, url: &str, headers: &[(&str, &str)]) -> HttpAnswer {
    http_request_with_body(method, url, headers, "").await
}

/// [`http_request`] with a body (JSON: set the `Content-Type` in `headers`).
pub async fn http_request_with_body(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpAnswer {
    use http_body_util::{BodyExt, Full};
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(bytes::Bytes::from(body.to_owned())))
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let response = tokio::time::timeout(Duration::from_secs(10), client.request(request))
        .await
        .unwrap_or_else(|_| panic!("{method} {url}: no answer within 10 s"))
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: body: {e}"))
        .to_bytes();
    HttpAnswer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Polls until `GET path` answers 200 on 127.0.0.1:port.
pub async fn wait_for_http(port: u16, path: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        if http_status(port, path).await == Some(200) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "nothing answered 200 on 127.0.0.1:{port}{path} within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The status code of `GET path`, reading only the status line (some servers keep the
/// connection open whatever `Connection: close` says), or None within 2 s.
async fn http_status(port: u16, path: &str) -> Option<u16> {
    let probe = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let req =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await.ok()?;
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).await.ok()?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    tokio::time::timeout(Duration::from_secs(2), probe)
        .await
        .ok()
        .flatten()
}
