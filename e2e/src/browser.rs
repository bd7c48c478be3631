//! chromedriver and the Chromium browsers it drives, with no process left behind.
//!
//! Why this is careful: Chromium is chromedriver's child. Killing chromedriver alone (what a
//! plain `kill_on_drop` does) orphans the browser and its helpers to init, where they keep
//! running. And a `#[tokio::test]` runtime stops right after the test body, so fantoccini's
//! own "end the session when the last client is dropped" never gets to run. So:
//!
//! * [`Browser`] owns the WebDriver client; its `Drop` ends the WebDriver session with a plain
//!   blocking `DELETE /session/{id}` (no async runtime needed, so it works while a panicking
//!   test unwinds), and chromedriver then quits Chromium and waits for it.
//! * [`Driver`] starts chromedriver in its own process group. Chromium's browser, zygote,
//!   renderer and GPU processes stay in that group; only Chromium's crash handler
//!   (`chrome_crashpad_handler`) leaves it (it calls `setsid`), so every process also inherits
//!   an environment marker naming its driver. On drop the driver waits briefly for the browsers
//!   to end, then kills whatever is left: the whole group and every marked process.
//! * Under `scripts/test.sh`, the driver appends its process group id to the file named by
//!   `TOKENPAIR_E2E_PGIDS`, so the script can tell this run's leftovers from other runs'.

use std::io::{Read, Write};
use std::net::TcpStream as StdStream;
use std::ops::Deref;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use tokio::process::{Child, Command};

use crate::server::wait_for_http;

/// The environment variable every process of one [`Driver`] inherits.
pub const DRIVER_MARKER: &str = "TOKENPAIR_E2E_DRIVER";

/// chromedriver, started on a free port in its own process group. On drop it ends every
/// process it started (see the module docs).
pub struct Driver {
    child: Option<Child>,
    port: u16,
    pgid: i32,
    marker: String,
}

/// A process of a [`Driver`] (chromedriver, Chromium or one of Chromium's helpers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proc {
    pub pid: i32,
    pub pgid: i32,
    /// The kernel's short name (`chromium`, `chromedriver`, `chrome_crashpad`…).
    pub comm: String,
}

/// Reads chromedriver's "started successfully on port N." line, then keeps its output
/// drained so a chatty driver never blocks on a full pipe.
async fn reported_port(child: &mut tokio::process::Child) -> u16 {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let stdout = child.stdout.take().expect("chromedriver's stdout");
    let mut lines = BufReader::new(stdout).lines();
    let port = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                return rest.trim_end_matches('.').trim().parse().ok();
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("chromedriver said which port it listens on");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    port
}

impl Driver {
    pub async fn start() -> Driver {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let marker = format!(
            "{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        // Port 0: chromedriver binds a free port itself and says which, so no other process
        // can take it between choosing and binding.
        let mut child = Command::new("chromedriver")
            .arg("--port=0")
            .env(DRIVER_MARKER, &marker)
            // Its own group, so Chromium and its helpers can be ended as one.
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver (scripts/setup.sh installs Debian's chromium-driver)");
        let port = reported_port(&mut child).await;
        let pgid = child.id().expect("chromedriver's pid") as i32;
        if let Some(file) = std::env::var_os("TOKENPAIR_E2E_PGIDS") {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(file)
            {
                let _ = writeln!(f, "{pgid}");
            }
        }
        let driver = Driver {
            child: Some(child),
            port,
            pgid,
            marker,
        };
        wait_for_http(port, "/status", Duration::from_secs(20)).await;
        driver
    }

    /// A new browser (its own profile and cookie jar): headless Chromium as root.
    pub async fn browser(&self) -> Browser {
        self.browser_with_args(&[]).await
    }

    /// [`Driver::browser`] with more Chromium switches (e.g. `--user-agent=…`).
    pub async fn browser_with_args(&self, extra: &[&str]) -> Browser {
        let mut caps = Capabilities::new();
        let mut args = vec![
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
        args.extend_from_slice(extra);
        let profile = tempfile::Builder::new()
            .prefix("tokenpair-e2e-chromium-")
            .tempdir()
            .expect("a temporary Chromium profile");
        let user_data_dir = format!("--user-data-dir={}", profile.path().display());
        args.push(&user_data_dir);
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "args": args, "binary": chromium_binary() }),
        );
        // The console, for `a11y::browser_log`.
        caps.insert(
            "goog:loggingPrefs".into(),
            serde_json::json!({ "browser": "ALL" }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a chromedriver session");
        let session = client.session_id().await.ok().flatten();
        Browser {
            client,
            session,
            driver_port: self.port,
            _profile: profile,
        }
    }

    /// chromedriver's process group id (its pid).
    pub fn pgid(&self) -> i32 {
        self.pgid
    }

    /// Every live (not zombie) process of this driver: its process group, plus processes
    /// that left the group but carry its marker. chromedriver itself included.
    pub fn processes(&self) -> Vec<Proc> {
        let needle = format!("{DRIVER_MARKER}={}", self.marker);
        live_processes()
            .into_iter()
            .filter(|p| p.pgid == self.pgid || environ_has(p.pid, &needle))
            .collect()
    }

    /// [`Driver::processes`] without chromedriver: what its browsers left running.
    pub fn browser_processes(&self) -> Vec<Proc> {
        self.processes()
            .into_iter()
            .filter(|p| p.comm != "chromedriver")
            .collect()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Browsers whose session ended are on their way out: give them a moment to exit by
        // themselves (a killed Chromium may leave its crash handler behind).
        let deadline = Instant::now() + Duration::from_secs(3);
        while !self.browser_processes().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let marked = self.processes();
        // SAFETY: plain kill(2) calls; a negative pid names our own chromedriver's group.
        unsafe {
            libc::kill(-self.pgid, libc::SIGKILL);
            for p in marked {
                libc::kill(p.pid, libc::SIGKILL);
            }
        }
        // Reap chromedriver now (Chromium's processes were its children: init reaps those).
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(2);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// One Chromium with its own profile, driven over WebDriver. Derefs to [`fantoccini::Client`],
/// so everything a client can do, a `Browser` can. Dropping it ends the WebDriver session
/// (chromedriver then quits Chromium), also when the test panicked.
pub struct Browser {
    client: Client,
    session: Option<String>,
    driver_port: u16,
    /// Chromium's profile, removed after the session ends (Browser's `Drop` runs before its
    /// fields drop). Left to chromedriver, a 60 MB `/tmp/org.chromium.Chromium.scoped_dir.*`
    /// stayed behind for every browser not quit through WebDriver.
    _profile: tempfile::TempDir,
}

impl Deref for Browser {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Browser {
    /// The WebDriver session id.
    pub fn session_id(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// Ends the session now and waits for it (what dropping does, asynchronously).
    pub async fn close(mut self) -> Result<(), fantoccini::error::CmdError> {
        let result = self.client.clone().close().await;
        if result.is_ok() {
            self.session = None;
        }
        result
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(id) = self.session.take() {
            end_session(self.driver_port, &id);
        }
    }
}

/// `DELETE /session/{id}` over a blocking socket: no async runtime involved, so this works in
/// `Drop`, while the test's runtime is unwinding or blocked. chromedriver answers after
/// Chromium has quit.
fn end_session(port: u16, id: &str) {
    let attempt = || -> std::io::Result<()> {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream = StdStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        write!(
            stream,
            "DELETE /session/{id} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        // Wait for the status line at least: that is when chromedriver is done.
        let mut buf = [0u8; 512];
        let _ = stream.read(&mut buf)?;
        Ok(())
    };
    let _ = attempt();
}

fn chromium_binary() -> String {
    std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Every live (not zombie) process on the machine, from `/proc`.
pub fn live_processes() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
            let open = stat.find('(')?;
            let close = stat.rfind(')')?;
            let comm = stat[open + 1..close].to_owned();
            let mut rest = stat[close + 1..].split_whitespace();
            let state = rest.next()?;
            let _ppid = rest.next()?;
            let pgid = rest.next()?.parse().ok()?;
            (state != "Z" && state != "X").then_some(Proc { pid, pgid, comm })
        })
        .collect()
}

fn environ_has(pid: i32, needle: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()))
        .unwrap_or(false)
}
