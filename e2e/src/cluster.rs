//! `make cluster` for the journeys: `scripts/cluster.sh` (PostgreSQL database, two instances,
//! nginx terminating TLS in front), started and stopped by the test.
//!
//! Needs a PostgreSQL cluster: `scripts/test.sh` runs the e2e layer under `scripts/pg.sh`
//! (which sets `TOKENPAIR_TEST_PG_URL`). Without one the journey fails; it never skips.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::server::dist_dir;

/// What the test needs of the cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// The host name of the TLS front (`CLUSTER_HOST`); its certificate names it.
    pub host: &'static str,
    /// A plain-http listener on this port too (`CLUSTER_HTTP_PORT`; pick it with
    /// [`free_port`]), for a test proxy or client.
    pub http_port: Option<u16>,
    /// More origins the cookie endpoints accept (`ALLOWED_ORIGINS`: a proxy in front).
    pub allowed_origins: Vec<String>,
    /// `TRUSTED_PROXIES` of the instances (cluster.sh's default: nginx, 127.0.0.1).
    pub trusted_proxies: Option<&'static str>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            host: "localhost",
            http_port: None,
            allowed_origins: Vec::new(),
            trusted_proxies: None,
        }
    }
}

/// A running cluster; stopped (nginx and both instances) when dropped, also after a failed
/// assertion.
pub struct Cluster {
    /// nginx's TLS port on 127.0.0.1.
    pub port: u16,
    /// nginx's plain-http port, with [`ClusterOptions::http_port`].
    pub http_port: Option<u16>,
    /// The instances' addresses (`127.0.0.1:PORT`), as nginx names them in
    /// `X-Tokenpair-Instance`.
    pub instances: [String; 2],
    /// Their logs (`RUST_LOG=info`).
    pub logs: [PathBuf; 2],
    /// The local CA and the certificates (`ca.pem`, `HOST.pem`).
    pub tls_dir: PathBuf,
    /// `https://HOST:PORT`
    pub public_url: String,
    // Dropped in this order: stop the script (and wait), then its handle, then the run dir.
    _stop: StopCluster,
    _child: tokio::process::Child,
    _run: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Cluster {
    pub async fn start(options: ClusterOptions) -> Cluster {
        let pg = std::env::var("TOKENPAIR_TEST_PG_URL")
            .expect("TOKENPAIR_TEST_PG_URL: run through scripts/pg.sh (scripts/test.sh e2e does)");
        let root = dist_dir().join("..");
        let run = tempfile::tempdir().expect("run dir");
        let tls_dir = run.path().join("tls");
        let port = free_port();
        let http_port = options.http_port;
        let target = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| root.join("target"));
        let mut command = Command::new("bash");
        command
            .arg(root.join("scripts/cluster.sh"))
            .current_dir(&root)
            .env("TOKENPAIR_TEST_PG_URL", pg)
            .env("CLUSTER_PORT", port.to_string())
            .env("CLUSTER_HOST", options.host)
            .env("CLUSTER_RUN_DIR", run.path())
            .env("TOKENPAIR_TLS_DIR", &tls_dir)
            .env("STATIC_DIR", dist_dir())
            .env("SERVER_BIN", target.join("release/tokenpair-server"))
            .env("ALLOWED_ORIGINS", options.allowed_origins.join(","))
            // Short access tokens, so the journeys see refreshes; info logs name each event.
            .env("ACCESS_TOKEN_EXPIRY", "3s")
            .env("REFRESH_RATE_LIMIT", "120")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Its own process group (nginx and the instances stay in it), which the run's
            // leftover check (scripts/test.sh) knows, like chromedriver's.
            .process_group(0)
            .kill_on_drop(true);
        if let Some(p) = http_port {
            command.env("CLUSTER_HTTP_PORT", p.to_string());
        }
        if let Some(t) = options.trusted_proxies {
            command.env("TRUSTED_PROXIES", t);
        }
        let mut child = command.spawn().expect("start scripts/cluster.sh");
        let pid = child.id().expect("cluster.sh's pid");
        if let Some(file) = std::env::var_os("TOKENPAIR_E2E_PGIDS") {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(file) {
                let _ = writeln!(f, "{pid}");
            }
        }
        let stop = StopCluster(pid);
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ready = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("tokenpair cluster is running at") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(ready, Ok(true), "the cluster said it is running");
        // Keep reading its stdout, so the script never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let logs = [run.path().join("a.log"), run.path().join("b.log")];
        let instances = [address_in(&logs[0]), address_in(&logs[1])];
        Cluster {
            port,
            http_port,
            instances,
            logs,
            tls_dir,
            public_url: format!("https://{}:{port}", options.host),
            _stop: stop,
            _child: child,
            _run: run,
        }
    }

    /// The log of the instance nginx names `instance`.
    pub fn log_of(&self, instance: &str) -> &Path {
        let i = self
            .instances
            .iter()
            .position(|a| a == instance)
            .unwrap_or_else(|| panic!("{instance} is not one of {:?}", self.instances));
        &self.logs[i]
    }

    /// How many lines of both instances' logs contain every one of `words`.
    pub fn log_lines_with(&self, words: &[&str]) -> usize {
        self.logs.iter().map(|log| count(log, words)).sum()
    }
}

/// How many lines of `log` contain every one of `words`.
pub fn count(log: &Path, words: &[&str]) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| words.iter().all(|w| l.contains(w)))
        .count()
}

/// The address an instance's log says it listens on (`127.0.0.1:PORT`).
fn address_in(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    tokenpair_testkit::ready_base(&text)
        .and_then(|base| base.strip_prefix("http://").map(str::to_owned))
        .unwrap_or_else(|| panic!("no readiness line in {}:\n{text}", log.display()))
}

/// Ctrl-C for `scripts/cluster.sh` (its trap stops nginx and both instances), on drop: a
/// failing assertion must not leave the instances running (killing bash alone would).
struct StopCluster(u32);

impl Drop for StopCluster {
    fn drop(&mut self) {
        let pid = self.0 as libc::pid_t;
        // SAFETY: plain syscalls on the child's pid; `status` is a valid out-pointer.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
            for _ in 0..400 {
                let mut status = 0;
                if libc::waitpid(pid, &mut status, libc::WNOHANG) != 0 {
                    return; // exited (or already reaped)
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // Still running after 20 s: the whole group, nginx and the instances too.
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// The base64 SHA-256 of a certificate's public key (SPKI): what Chromium's
/// `--ignore-certificate-errors-spki-list` trusts — this certificate only, not every error.
pub fn spki_hash(cert: &Path) -> String {
    let script = format!(
        "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der \
         | openssl dgst -sha256 -binary | base64",
        cert.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("openssl");
    assert!(out.status.success(), "spki hash of {}", cert.display());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
