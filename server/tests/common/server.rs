//! The in-process test server: the library's `serve`, the real router, a real database (SQLite
//! file or a fresh PostgreSQL database, see [`super::db`]) on 127.0.0.1.
//!
//! Argon2 is slow in a debug build (~0.5 s per hash), so the harness avoids hashes that are not
//! what a test is about: the demo accounts are written with hashes computed once (the server then
//! skips its own seeding, exactly as on a second start), and [`TestServer::session`] starts a
//! session through the server's own `Sessions`/`AccessTokens` instead of a password login.
//! Tests about sign-in use the real `POST /api/auth/login`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header;
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokenpair_server::clock::Clock;
use tokenpair_server::db::Database;
use tokenpair_server::ids::UserId;
use tokenpair_server::{AppState, Config, StartupError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::db::{fresh_database, fresh_pg_database, preseed, Inspect};
use super::http::{granted, Tokens};
use super::wait::wait_for;
use super::{SECRET, USER1_ID, XRW};

/// A running server. Dropping it shuts the server down.
pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub config: Config,
    pub state: AppState,
    pub client: Client,
    dir: Arc<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), StartupError>>>,
}

/// Starts a server with the test defaults (`Config::for_tests` plus [`SECRET`]).
pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

/// Starts a server after `adjust` has changed the test defaults.
pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let (dir, config) = prepare(adjust).await;
    if config.demo_users {
        preseed(&config.database).await;
    }
    launch(config, dir).await
}

/// Like [`start_with`], but the server seeds the demo accounts itself (real Argon2 runs).
pub async fn start_fresh_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let (dir, config) = prepare(adjust).await;
    launch(config, dir).await
}

/// A second server on the database of `other` (another instance of the same deployment).
pub async fn start_beside(other: &TestServer) -> TestServer {
    launch(other.config.clone(), other.dir.clone()).await
}

/// Two instances on one fresh PostgreSQL database (whatever this run's backend), with the
/// demo accounts, sharing the signing key as a real deployment does.
pub async fn start_pair_with(adjust: impl FnOnce(&mut Config)) -> (TestServer, TestServer) {
    let database = fresh_pg_database().await;
    let (dir, config) = prepare_on(database, adjust).await;
    preseed(&config.database).await;
    let a = launch(config, dir).await;
    let b = start_beside(&a).await;
    (a, b)
}

async fn prepare(adjust: impl FnOnce(&mut Config)) -> (Arc<TempDir>, Config) {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let database = fresh_database(dir.path()).await;
    prepare_in(dir, database, adjust)
}

async fn prepare_on(
    database: Database,
    adjust: impl FnOnce(&mut Config),
) -> (Arc<TempDir>, Config) {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    prepare_in(dir, database, adjust)
}

fn prepare_in(
    dir: Arc<TempDir>,
    database: Database,
    adjust: impl FnOnce(&mut Config),
) -> (Arc<TempDir>, Config) {
    let mut config = Config::for_tests(database);
    config.tokens.access_token_secret = Some(SECRET.to_vec());
    config.static_dir = dir.path().join("dist");
    adjust(&mut config);
    (dir, config)
}

async fn launch(config: Config, dir: Arc<TempDir>) -> TestServer {
    launch_on(config, dir, Clock::System).await
}

/// Starts a server whose services all read `clock` (a [`Clock::manual`] the test moves).
pub async fn start_on_clock(clock: Clock, adjust: impl FnOnce(&mut Config)) -> TestServer {
    let (dir, config) = prepare(adjust).await;
    if config.demo_users {
        preseed(&config.database).await;
    }
    launch_on(config, dir, clock).await
}

async fn launch_on(config: Config, dir: Arc<TempDir>, clock: Clock) -> TestServer {
    let state = AppState::with_clock(config.clone(), clock)
        .await
        .expect("the server starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(tokenpair_server::serve(
        listener,
        state.clone(),
        async move {
            let _ = rx.await;
        },
    ));
    TestServer {
        base: format!("http://{addr}"),
        addr,
        config,
        state,
        client: client(),
        dir,
        shutdown: Some(tx),
        task: Some(task),
    }
}

/// A client without a cookie store and without redirects: tests see exactly what the server sent.
pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("reqwest client")
}

/// A client whose connections come from `127.0.1.<last>`: a distinct client address on
/// loopback (Linux routes all of 127/8 to `lo`), as the throttle sees it.
pub fn client_at(last: u8) -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127, 0, 1, last,
        )))
        .build()
        .expect("reqwest client")
}

impl TestServer {
    /// `POST /api/auth/login` from `client`, with an optional `Cookie` header.
    pub async fn login_from(
        &self,
        client: &Client,
        (username, password): (&str, &str),
        cookie: Option<&str>,
    ) -> Response {
        let mut request = client
            .post(self.url("/api/auth/login"))
            .header(XRW.0, XRW.1)
            .json(&json!({ "username": username, "password": password }));
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        request.send().await.expect("login request")
    }

    /// The SQLite file, when this run is on SQLite.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.config.database.sqlite_path()
    }

    pub fn database(&self) -> &Database {
        &self.config.database
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server (graceful shutdown, waited for).
    pub async fn stop(mut self) -> (Config, Arc<TempDir>) {
        self.shutdown_and_wait().await;
        self.state.db.close().await;
        (self.config.clone(), self.dir.clone())
    }

    /// Signals shutdown and waits for `serve` to return (panics after `patience`).
    pub async fn shutdown_within(&mut self, patience: Duration) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(patience, task).await {
                Ok(joined) => joined.expect("server task").expect("server ended cleanly"),
                Err(_) => panic!("the server did not shut down within {patience:?}"),
            }
        }
    }

    async fn shutdown_and_wait(&mut self) {
        // Idle keep-alive connections of our client would otherwise hold the graceful shutdown.
        self.client = client();
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(10), task).await {
                Ok(joined) => joined.expect("server task").expect("server ended cleanly"),
                Err(_) => panic!("the server did not shut down within 10 s"),
            }
        }
    }

    /// Stops the server and starts a new one on the same database, with the same config
    /// after `adjust`.
    pub async fn restart_with(self, adjust: impl FnOnce(&mut Config)) -> TestServer {
        let (mut config, dir) = self.stop().await;
        adjust(&mut config);
        launch(config, dir).await
    }

    pub async fn restart(self) -> TestServer {
        self.restart_with(|_| {}).await
    }

    /// Read-only looks into this server's database.
    pub fn db(&self) -> Inspect<'_> {
        Inspect(&self.state.db.pool)
    }

    /// The generation of a session's current refresh token (`None`: no such session).
    pub async fn generation(&self, sid: &str) -> Option<i64> {
        self.db()
            .rows("SELECT generation FROM sessions WHERE id = $1", Some(sid))
            .await
            .first()
            .map(|r| sqlx::Row::try_get(r, 0).expect("generation"))
    }

    pub async fn revoked_reason(&self, sid: &str) -> Option<String> {
        self.db()
            .text(
                "SELECT revoked_reason FROM sessions WHERE id = $1",
                Some(sid),
            )
            .await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path))
    }

    /// `GET path` with `Authorization: Bearer <access>`.
    pub fn get_bearer(&self, path: &str, access: &str) -> RequestBuilder {
        self.get(path).bearer_auth(access)
    }

    /// A POST to a cookie endpoint, with the CSRF header it needs.
    pub fn auth_post(&self, path: &str) -> RequestBuilder {
        self.client.post(self.url(path)).header(XRW.0, XRW.1)
    }

    /// `POST /api/auth/reauthenticate` with `access` and `body` (`{"password"}` or
    /// `{"credential"}`).
    pub async fn reauthenticate(&self, access: &str, body: Value) -> Response {
        self.auth_post("/api/auth/reauthenticate")
            .bearer_auth(access)
            .json(&body)
            .send()
            .await
            .expect("reauthenticate request")
    }

    pub async fn try_login(&self, username: &str, password: &str) -> Response {
        self.auth_post("/api/auth/login")
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login request")
    }

    /// A real sign-in that must succeed.
    pub async fn login(&self, (username, password): (&str, &str)) -> Tokens {
        let response = self.try_login(username, password).await;
        granted(response, StatusCode::OK).await.tokens
    }

    pub async fn try_register(&self, username: &str, password: &str) -> Response {
        self.auth_post("/api/auth/register")
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("register request")
    }

    /// `POST /api/auth/refresh` with `__Secure-refresh_token=<cookie>`.
    pub async fn refresh(&self, cookie: &str) -> Response {
        self.auth_post("/api/auth/refresh")
            .header(header::COOKIE, format!("__Secure-refresh_token={cookie}"))
            .send()
            .await
            .expect("refresh request")
    }

    /// A refresh that must succeed; returns the rotated tokens.
    pub async fn refresh_ok(&self, cookie: &str) -> Tokens {
        granted(self.refresh(cookie).await, StatusCode::OK)
            .await
            .tokens
    }

    pub async fn logout(&self, cookie: &str) -> Response {
        self.auth_post("/api/auth/logout")
            .header(header::COOKIE, format!("__Secure-refresh_token={cookie}"))
            .send()
            .await
            .expect("logout request")
    }

    /// `POST /api/auth/logout?scope=global` with `__Secure-refresh_token=<cookie>`.
    pub async fn logout_everywhere(&self, cookie: &str) -> Response {
        self.auth_post("/api/auth/logout?scope=global")
            .header(header::COOKIE, format!("__Secure-refresh_token={cookie}"))
            .send()
            .await
            .expect("logout request")
    }

    pub async fn me(&self, access: &str) -> Response {
        self.get_bearer("/api/me", access)
            .send()
            .await
            .expect("me request")
    }

    /// Asserts that `access` opens `/api/me` as `user_id`.
    pub async fn assert_access_works(&self, access: &str, user_id: i64) {
        let response = self.me(access).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "GET /api/me with a good token"
        );
        let me: Value = response.json().await.expect("me json");
        assert_eq!(me["id"], json!(user_id));
    }

    /// A session started through the server's own session store and token issuer (what a
    /// login does after the password check), without the cost of an Argon2 run.
    pub async fn session(&self, user_id: i64) -> Tokens {
        let username = if user_id == USER1_ID {
            "user1"
        } else {
            "user2"
        };
        let grant = self
            .state
            .sessions
            .start(
                UserId(user_id),
                username.into(),
                &tokenpair_server::security_events::Client {
                    addr: None,
                    user_agent: Some("integration-test".into()),
                },
            )
            .await
            .expect("start a session");
        let not_after = u64::try_from(grant.expires_at.ms() / 1000).expect("positive");
        let issued = self
            .state
            .tokens
            .issue_bound(
                UserId(user_id),
                &grant.session_id,
                not_after,
                None,
                grant.auth,
            )
            .expect("issue an access token");
        Tokens {
            access: issued.token,
            refresh: grant.refresh_token.0,
            sid: grant.session_id.to_string(),
            user_id,
        }
    }

    /// Sends raw bytes on a new connection (for requests reqwest will not build) and returns
    /// the status code and the whole response text.
    pub async fn raw(&self, request: &[u8]) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        stream.write_all(request).await.expect("write");
        let mut buf = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf)).await;
        read.expect("the server answers and closes").expect("read");
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        (status, text)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Makes every write to the database fail (`on`) or work again, as a full disk would: on
/// SQLite the server's one connection is switched to `query_only`; on PostgreSQL a trigger
/// raises "No space left on device" for writes to the session and health tables.
pub async fn make_writes_fail(server: &TestServer, on: bool) {
    let pool = &server.state.db.pool;
    let statements: Vec<String> = match (server.sqlite_path().is_some(), on) {
        (true, on) => vec![format!(
            "PRAGMA query_only = {}",
            if on { "ON" } else { "OFF" }
        )],
        (false, true) => {
            let mut s = vec!["CREATE OR REPLACE FUNCTION tokenpair_test_disk_full() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END; $$"
                .to_owned()];
            for table in ["sessions", "health_probe"] {
                s.push(format!(
                    "CREATE TRIGGER test_disk_full BEFORE INSERT OR UPDATE ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION tokenpair_test_disk_full()"
                ));
            }
            s
        }
        (false, false) => ["sessions", "health_probe"]
            .iter()
            .map(|t| format!("DROP TRIGGER test_disk_full ON {t}"))
            .collect(),
    };
    for sql in statements {
        sqlx::query(&sql)
            .execute(pool)
            .await
            .expect("switch writes");
    }
    // The health check reuses a result for a second: wait until it tells the switch.
    let want = if on {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    wait_for("the health check to see the switch", || async {
        server
            .get("/api/health")
            .send()
            .await
            .expect("health")
            .status()
            == want
    })
    .await;
}
