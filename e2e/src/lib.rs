//! End-to-end harness: the real release server (serving the real release SPA from `dist/`) on
//! loopback with a fresh SQLite file, and Debian's Chromium driven through chromedriver.
//!
//! `make test` builds both first. Run alone: `make e2e`.
//! Paths can be overridden with `TOKENPAIR_SERVER_BIN` and `TOKENPAIR_DIST`.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
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

fn server_bin() -> PathBuf {
    if let Ok(p) = std::env::var("TOKENPAIR_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    target.join("release").join("tokenpair-server")
}

/// The built SPA (`trunk build --release` output) the server serves.
pub fn dist_dir() -> PathBuf {
    std::env::var("TOKENPAIR_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("dist"))
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
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
    secret: &'static str,
    db_path: PathBuf,
    log_path: PathBuf,
}

impl Server {
    pub async fn start(options: ServerOptions) -> Server {
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
            port: free_port(),
            options,
            _data: data,
            secret: TEST_SECRET,
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
            .args(["--access-token-expiry", self.options.access_token_expiry])
            .args(["--refresh-token-expiry", self.options.refresh_token_expiry])
            .args(&self.options.extra_args)
            .env("ACCESS_TOKEN_SECRET", self.secret)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        self.child = Some(cmd.spawn().expect("start tokenpair-server"));
        wait_for_http(self.port, "/api/health", Duration::from_secs(20)).await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
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
        self.secret = secret;
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

/// chromedriver, started on a free port. Killed on drop.
pub struct Driver {
    _child: Child,
    port: u16,
}

impl Driver {
    pub async fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver (scripts/setup.sh installs Debian's chromium-driver)");
        wait_for_http(port, "/status", Duration::from_secs(20)).await;
        Driver {
            _child: child,
            port,
        }
    }

    /// A new browser (its own profile and cookie jar): headless Chromium as root.
    pub async fn browser(&self) -> Client {
        let mut caps = Capabilities::new();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
        ];
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": args, "binary": chromium_binary() }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromedriver session")
    }
}

fn chromium_binary() -> String {
    std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Waits for an element and returns its text.
pub async fn text_of(browser: &Client, css: &str) -> String {
    let el = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"));
    el.text().await.unwrap_or_default()
}

/// Fills the login form and submits it.
pub async fn sign_in(browser: &Client, username: &str, password: &str) {
    let wait = browser.wait().at_most(Duration::from_secs(10));
    let user = wait
        .for_element(Locator::Css("#username"))
        .await
        .expect("the login form");
    user.send_keys(username).await.expect("type username");
    let pass = browser
        .find(Locator::Css("#password"))
        .await
        .expect("password field");
    pass.send_keys(password).await.expect("type password");
    browser
        .find(Locator::Css("[data-testid=submit]"))
        .await
        .expect("submit")
        .click()
        .await
        .expect("click");
}

/// The current path of the page.
pub async fn path(browser: &Client) -> String {
    browser
        .current_url()
        .await
        .map(|u| u.path().to_owned())
        .unwrap_or_default()
}

/// Polls `f` until it returns true, or panics with `what` after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !f().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether an element matching `css` is in the page now.
pub async fn exists(browser: &Client, css: &str) -> bool {
    browser.find(Locator::Css(css)).await.is_ok()
}

/// Clicks the element matching `css` (waiting up to 10 s for it).
pub async fn click(browser: &Client, css: &str) {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Replaces an input's value the way typing does (an `input` event), whatever it held before.
pub async fn fill(browser: &Client, css: &str, value: &str) {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no element {css}: {e}"));
    browser
        .execute(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1];
             el.dispatchEvent(new Event('input', { bubbles: true }));",
            vec![css.into(), value.into()],
        )
        .await
        .unwrap_or_else(|e| panic!("fill {css}: {e}"));
}

/// The text of the element matching `css` if it is in the page now.
pub async fn text_now(browser: &Client, css: &str) -> Option<String> {
    let el = browser.find(Locator::Css(css)).await.ok()?;
    el.text().await.ok()
}
