//! `tokenpair-bench`: a load figure for the two hot paths, on loopback.
//!
//! ```text
//! cargo run -p tokenpair-server --release --bin tokenpair-bench [-- --connections 64 --duration 5s]
//! ```
//!
//! Starts the `tokenpair-server` binary that sits next to this one (building it first through
//! cargo if it is missing) on 127.0.0.1 with a temporary SQLite file and a fixed key, signs in,
//! and drives N keep-alive HTTP/1.1 connections for a fixed time per scenario:
//!
//! * `GET /api/me` with a Bearer token (token verification + revocation check + user cache);
//! * `POST /api/auth/refresh` as rotation chains: every connection has its own session and
//!   carries the rotated cookie forward, so every request is a real rotation (one SQLite write
//!   transaction). Non-200 answers are counted and printed; there should be none.
//!
//! Then it prints the server's peak RSS (`VmHWM`). It prints figures beside the targets; it
//! asserts nothing.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

const SECRET: &str = "tokenpair-bench-fixed-secret-0123456789abcdefghijklmnop";
const ME_TARGET: f64 = 20_000.0;
const REFRESH_TARGET: f64 = 2_000.0;
const RSS_TARGET_MB: f64 = 30.0;

/// Load figures for /api/me and refresh-token rotation against a local tokenpair-server.
#[derive(Debug, Parser)]
#[command(name = "tokenpair-bench", version, about)]
struct Args {
    /// Concurrent keep-alive HTTP/1.1 connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,

    /// Measured time per scenario (humantime: `5s`, `500ms`).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    duration: Duration,

    /// Unmeasured warm-up before each scenario.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    warmup: Duration,

    /// Worker threads of the load generator (the server has its own).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,

    /// The server binary (default: `tokenpair-server` next to this executable).
    #[arg(long)]
    server: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokenpair-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokenpair-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(args: Args) -> Result<(), BoxError> {
    let binary = match args.server.clone() {
        Some(path) => path,
        None => server_binary()?,
    };
    let dir = std::env::temp_dir().join(format!("tokenpair-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mut server = Server::start(&binary, &dir)?;
    let result = scenarios(&args, &binary, &server).await;
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn scenarios(args: &Args, binary: &Path, server: &Server) -> Result<(), BoxError> {
    let addr = server.addr;
    wait_for_health(addr).await?;
    println!(
        "tokenpair-bench: {} connections, {:?} per scenario (+{:?} warm-up), {} client thread(s)",
        args.connections, args.duration, args.warmup, args.client_threads
    );
    println!(
        "server: {} (pid {}) on http://{addr}",
        binary.display(),
        server.pid()
    );

    // One session per connection for the rotation chains, plus one for /api/me.
    let mut conn = connect(addr).await?;
    let me_session = login(&mut conn, addr).await?;
    let mut sessions = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        sessions.push(login(&mut conn, addr).await?);
    }
    drop(conn);
    let after_logins = memory(server.pid());

    println!();
    println!(
        "{:<34} {:>9} {:>10} {:>9} {:>9} {:>7}   target",
        "scenario", "requests", "req/s", "p50", "p99", "errors"
    );

    let token = Arc::new(me_session.access);
    let me = load(args, addr, vec![(); args.connections], |()| MeStep {
        token: token.clone(),
    })
    .await?;
    me.print("GET /api/me (Bearer)", ME_TARGET, "req/s");
    let after_me = memory(server.pid());

    let refresh = load(args, addr, sessions, |session| RefreshStep {
        cookie: session.refresh,
    })
    .await?;
    refresh.print(
        "POST /api/auth/refresh (rotation)",
        REFRESH_TARGET,
        "rotations/s",
    );
    if !refresh.errors.is_empty() {
        println!("  non-200 refresh answers: {:?}", refresh.errors);
    }

    let after_refresh = memory(server.pid());
    let rss_mb = peak_rss_kb(server.pid())? as f64 / 1024.0;
    println!();
    println!(
        "server memory (current / peak RSS): after {} sign-ins {after_logins}, after /api/me {after_me}, \
         after refresh {after_refresh}",
        args.connections + 1
    );
    println!(
        "server peak RSS (VmHWM): {rss_mb:.1} MiB   target <= {RSS_TARGET_MB:.0} MiB  {}",
        verdict(rss_mb <= RSS_TARGET_MB)
    );
    Ok(())
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

// ---- the server process ----

/// `tokenpair-server` next to this executable; built through cargo (same profile) if missing.
fn server_binary() -> Result<PathBuf, BoxError> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or("the bench executable has no directory")?;
    let binary = dir.join(format!("tokenpair-server{}", std::env::consts::EXE_SUFFIX));
    if binary.exists() {
        return Ok(binary);
    }
    // `cargo run --bin tokenpair-bench` builds only this binary; build the server the same way.
    let cargo = std::env::var_os("CARGO").ok_or_else(|| {
        format!(
            "{} does not exist: build it first (cargo build --release -p tokenpair-server)",
            binary.display()
        )
    })?;
    let release = dir.file_name().is_some_and(|n| n == "release");
    eprintln!(
        "tokenpair-bench: building tokenpair-server ({})",
        if release { "release" } else { "debug" }
    );
    let mut build = Command::new(cargo);
    build.args([
        "build",
        "-p",
        "tokenpair-server",
        "--bin",
        "tokenpair-server",
    ]);
    if release {
        build.arg("--release");
    }
    if !build.status()?.success() || !binary.exists() {
        return Err(format!("could not build {}", binary.display()).into());
    }
    Ok(binary)
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(binary: &Path, dir: &Path) -> Result<Server, BoxError> {
        let mut child = Command::new(binary)
            .env_clear()
            .env("ACCESS_TOKEN_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .args(["--host", "127.0.0.1", "--port", "0"])
            .arg("--database-url")
            .arg(dir.join("bench.db"))
            .arg("--static-dir")
            .arg(dir.join("dist"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(rest) = line.split("running at http://").nth(1) {
                        break rest
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .parse::<SocketAddr>()?;
                    }
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err("the server exited before listening".into());
                }
            }
        };
        // Keep draining its stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Server { child, addr })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

fn peak_rss_kb(pid: u32) -> Result<u64, BoxError> {
    proc_status_kb(pid, "VmHWM:")
}

/// A `kB` figure of `/proc/<pid>/status`.
fn proc_status_kb(pid: u32, field: &str) -> Result<u64, BoxError> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or("field missing in /proc/<pid>/status")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("malformed /proc/<pid>/status")?
        .parse()?)
}

/// "current / peak" RSS in MiB, for the log.
fn memory(pid: u32) -> String {
    let mib = |field| {
        proc_status_kb(pid, field).map_or("?".to_owned(), |kb| format!("{:.1}", kb as f64 / 1024.0))
    };
    let threads = proc_status_kb(pid, "Threads:").map_or("?".to_owned(), |n| n.to_string());
    format!(
        "{} / {} MiB ({threads} threads)",
        mib("VmRSS:"),
        mib("VmHWM:")
    )
}

// ---- HTTP/1.1 over hyper ----

type Conn = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Conn, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

struct Answer {
    status: StatusCode,
    refresh_cookie: Option<String>,
    body: Bytes,
}

async fn send(conn: &mut Conn, request: Request<Full<Bytes>>) -> Result<Answer, BoxError> {
    conn.ready().await?;
    let response = conn.send_request(request).await?;
    let status = response.status();
    let refresh_cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("refresh_token="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        refresh_cookie,
        body,
    })
}

async fn wait_for_health(addr: SocketAddr) -> Result<(), BoxError> {
    let started = Instant::now();
    loop {
        if let Ok(mut conn) = connect(addr).await {
            let request = Request::get("/api/health")
                .header(header::HOST, addr.to_string())
                .body(Full::default())?;
            if send(&mut conn, request)
                .await
                .is_ok_and(|a| a.status == StatusCode::OK)
            {
                return Ok(());
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err("the server did not answer /api/health within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Session {
    access: String,
    refresh: String,
}

async fn login(conn: &mut Conn, addr: SocketAddr) -> Result<Session, BoxError> {
    let body = r#"{"username":"user1","password":"password1"}"#;
    let request = Request::post("/api/auth/login")
        .header(header::HOST, addr.to_string())
        .header("x-requested-with", "XMLHttpRequest")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))?;
    let answer = send(conn, request).await?;
    if answer.status != StatusCode::OK {
        return Err(format!(
            "sign-in failed: {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )
        .into());
    }
    let json: serde_json::Value = serde_json::from_slice(&answer.body)?;
    let access = json["access_token"]
        .as_str()
        .ok_or("no access_token")?
        .to_owned();
    let refresh = answer.refresh_cookie.ok_or("no refresh cookie")?;
    Ok(Session { access, refresh })
}

// ---- the load loop ----

/// One kind of request a connection sends over and over.
trait Step: Send + 'static {
    fn request(&self, host: &str) -> Result<Request<Full<Bytes>>, BoxError>;
    /// Looks at a 200 answer; `false` if the chain cannot go on.
    fn accept(&mut self, answer: &Answer) -> bool;
}

struct MeStep {
    token: Arc<String>,
}

impl Step for MeStep {
    fn request(&self, host: &str) -> Result<Request<Full<Bytes>>, BoxError> {
        Ok(Request::get("/api/me")
            .header(header::HOST, host)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .body(Full::default())?)
    }

    fn accept(&mut self, _: &Answer) -> bool {
        true
    }
}

struct RefreshStep {
    cookie: String,
}

impl Step for RefreshStep {
    fn request(&self, host: &str) -> Result<Request<Full<Bytes>>, BoxError> {
        Ok(Request::post("/api/auth/refresh")
            .header(header::HOST, host)
            .header("x-requested-with", "XMLHttpRequest")
            .header(header::COOKIE, format!("refresh_token={}", self.cookie))
            .body(Full::default())?)
    }

    fn accept(&mut self, answer: &Answer) -> bool {
        match &answer.refresh_cookie {
            Some(next) if *next != self.cookie => {
                self.cookie.clone_from(next);
                true
            }
            _ => false,
        }
    }
}

#[derive(Default)]
struct Figures {
    requests: u64,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    /// Non-200 statuses (or "rotation did not advance") and how often.
    errors: Vec<(String, u64)>,
}

impl Figures {
    fn percentile(&self, p: f64) -> Duration {
        if self.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        Duration::from_micros(u64::from(self.latencies_us[i]))
    }

    fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn print(&self, name: &str, target: f64, unit: &str) {
        let errors: u64 = self.errors.iter().map(|(_, n)| n).sum();
        println!(
            "{name:<34} {:>9} {:>10.0} {:>9} {:>9} {:>7}   >= {target:.0} {unit}  {}",
            self.requests,
            self.rate(),
            fmt_latency(self.percentile(0.50)),
            fmt_latency(self.percentile(0.99)),
            errors,
            verdict(self.rate() >= target && errors == 0)
        );
    }
}

fn fmt_latency(d: Duration) -> String {
    format!("{:.2}ms", d.as_secs_f64() * 1000.0)
}

/// Runs one scenario: a connection per item of `seeds`, each looping its step until the
/// warm-up and the measured time are over.
async fn load<T, S: Step>(
    args: &Args,
    addr: SocketAddr,
    seeds: Vec<T>,
    make: impl Fn(T) -> S,
) -> Result<Figures, BoxError> {
    let measuring = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(seeds.len());
    for seed in seeds {
        let mut step = make(seed);
        let mut conn = connect(addr).await?;
        let (measuring, stop) = (measuring.clone(), stop.clone());
        let host = addr.to_string();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut errors: Vec<(String, u64)> = Vec::new();
            let mut note = |what: String| match errors.iter_mut().find(|(k, _)| *k == what) {
                Some((_, n)) => *n += 1,
                None => errors.push((what, 1)),
            };
            while !stop.load(Ordering::Relaxed) {
                let request = match step.request(&host) {
                    Ok(r) => r,
                    Err(e) => {
                        note(format!("request: {e}"));
                        break;
                    }
                };
                let started = Instant::now();
                let answer = send(&mut conn, request).await;
                let took = started.elapsed();
                let counted = measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed);
                match answer {
                    Ok(a) if a.status == StatusCode::OK => {
                        if counted {
                            latencies.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                        }
                        if !step.accept(&a) {
                            note("200 without a rotated cookie".into());
                            break;
                        }
                    }
                    Ok(a) => {
                        note(format!("{} {}", a.status, String::from_utf8_lossy(&a.body)));
                        break;
                    }
                    Err(e) => {
                        note(format!("transport: {e}"));
                        break;
                    }
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(args.warmup).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(args.duration).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();

    let mut figures = Figures {
        elapsed,
        ..Figures::default()
    };
    for task in tasks {
        let (latencies, errors) = task.await?;
        figures.latencies_us.extend(latencies);
        for (what, n) in errors {
            match figures.errors.iter_mut().find(|(k, _)| *k == what) {
                Some((_, m)) => *m += n,
                None => figures.errors.push((what, n)),
            }
        }
    }
    figures.requests = figures.latencies_us.len() as u64;
    figures.latencies_us.sort_unstable();
    Ok(figures)
}
