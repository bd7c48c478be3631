//! `tokenpair-bench`: load figures for the two hot paths on both backends, beside a bare axum
//! handler — and how much the tables grow.
//!
//! ```text
//! make bench        # = scripts/pg.sh tokenpair-bench (a throwaway PostgreSQL for the second backend)
//! tokenpair-bench [--backends sqlite,postgres] [--connections 32] [--duration 5s]
//! ```
//!
//! For each backend it starts the release `tokenpair-server` (through tokenpair-testkit, which
//! waits for its readiness line) on a fresh database and drives keep-alive HTTP/1.1 connections:
//!
//! * `GET /api/me` with a Bearer token (signature, `typ`/`iss`/`aud`/`exp`, revocation check,
//!   security headers), alternating with the same load on a bare axum handler that returns the
//!   same JSON ([`bare`]) — the ratio is the cost of everything the real endpoint does;
//! * `POST /api/auth/refresh` as rotation chains (every request a real rotation);
//! * the same two with DPoP ([`dpop`]): `/api/me` with a bound token and a fresh proof per
//!   request (ES256 as the browser signs, and EdDSA), and rotation chains of bound sessions;
//! * growth ([`growth`]): rows and bytes after 20,000 rotations, and after sign-out + prune;
//! * under attack ([`attack`]): other users' sign-in, `/api/me` and refresh latency while
//!   attackers flood the password check or tie up connections, with every default limit on.
//!
//! PostgreSQL comes from `TOKENPAIR_TEST_PG_URL` (an admin URL; `scripts/pg.sh` sets it).

mod attack;
mod bare;
mod dpop;
mod growth;
mod load;
mod process;

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tokenpair_server::db::Database;
use tokenpair_testkit::ServerProcess;

use dpop::{login_bound, Proofs};
use load::{connect, load, login, BoxError, Figures, MeStep, RefreshStep, Timing};
use process::{
    cpu_per_request, cpu_seconds, fresh_database, memory, sibling, start, start_defaults,
};
use tokenpair_testkit::dpop::ProofKey;

/// Load figures for tokenpair-server on SQLite and PostgreSQL, beside a bare axum handler.
#[derive(Debug, Parser)]
#[command(name = "tokenpair-bench", version, about)]
struct Args {
    /// Backends to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,

    /// Concurrent keep-alive HTTP/1.1 connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,

    /// Measured time per scenario (humantime: `5s`, `500ms`).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    duration: Duration,

    /// Unmeasured warm-up before each scenario.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    warmup: Duration,

    /// Rounds of /api/me alternating with the bare handler.
    #[arg(long, default_value_t = 2)]
    rounds: usize,

    /// Skip the 20,000-rotation growth measurement.
    #[arg(long)]
    no_growth: bool,

    /// Skip the DPoP scenarios.
    #[arg(long)]
    no_dpop: bool,

    /// DPoP proofs made in advance per connection and scenario (each request uses one).
    #[arg(long, default_value_t = 4000)]
    dpop_proofs: usize,

    /// Skip the "under attack" scenario.
    #[arg(long)]
    no_attack: bool,

    /// The server binary (default: `tokenpair-server` next to this executable).
    #[arg(long)]
    server: Option<PathBuf>,

    /// Internal: run the bare axum handler (what the ratio compares against).
    #[arg(long, hide = true)]
    serve_bare: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut builder = if args.serve_bare {
        // Like the real server: one worker per core.
        tokio::runtime::Builder::new_multi_thread()
    } else {
        // The load generator: one thread, so the server keeps the other core(s).
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(1);
        b
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokenpair-bench: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = if args.serve_bare {
        runtime.block_on(bare::serve())
    } else {
        runtime.block_on(run(args))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokenpair-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Deletes a directory when dropped.
struct RemoveDir(PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Row {
    backend: String,
    me: Vec<f64>,
    bare: Vec<f64>,
    rotations: f64,
    /// With DPoP: `/api/me` req/s with an ES256 key, with an EdDSA key, and rotations/s.
    dpop: Option<[f64; 3]>,
    errors: u64,
}

async fn run(args: Args) -> Result<(), BoxError> {
    let binary = match args.server.clone() {
        Some(path) => path,
        None => sibling("tokenpair-server")?,
    };
    let timing = Timing {
        warmup: args.warmup,
        duration: args.duration,
    };
    let dir = std::env::temp_dir().join(format!("tokenpair-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // Removed on every way out, errors included (the server processes die with their handles).
    let _remove_dir = RemoveDir(dir.clone());
    println!(
        "tokenpair-bench: {} connections, {:?} per scenario (+{:?} warm-up), 1 client thread, server {}",
        args.connections,
        args.duration,
        args.warmup,
        binary.display()
    );
    let mut bare_cmd = Command::new(std::env::current_exe()?);
    bare_cmd.arg("--serve-bare");
    let bare = ServerProcess::spawn(bare_cmd);
    let bare_addr = bare.base.trim_start_matches("http://").parse()?;

    let mut rows = Vec::new();
    let mut growth = Vec::new();
    for (i, backend) in args.backends.iter().enumerate() {
        let database = fresh_database(backend, &dir, &format!("bench{i}")).await?;
        let server = start(&binary, &database, &dir);
        let addr = server.base.trim_start_matches("http://").parse()?;
        let mut conn = connect(addr).await?;
        let me_session = login(&mut conn, addr).await?;
        let mut chains = Vec::with_capacity(args.connections);
        for _ in 0..args.connections {
            chains.push(login(&mut conn, addr).await?);
        }
        drop(conn);
        println!("\n== {backend}");
        let token = Arc::new(me_session.access);
        let (mut me, mut bare_rates, mut errors) = (Vec::new(), Vec::new(), 0);
        for round in 1..=args.rounds {
            let step = |()| MeStep {
                token: token.clone(),
                proofs: None,
            };
            let cpu = cpu_seconds(server.pid());
            let f = load(timing, addr, vec![(); args.connections], step).await?;
            let me_cpu = cpu_per_request(server.pid(), cpu, &f, timing);
            f.print(&format!("GET /api/me ({backend}), round {round}"));
            let cpu = cpu_seconds(bare.pid());
            let b = load(timing, bare_addr, vec![(); args.connections], step).await?;
            let bare_cpu = cpu_per_request(bare.pid(), cpu, &b, timing);
            b.print(&format!("GET /api/me bare axum handler, round {round}"));
            println!("  server CPU per request: /api/me {me_cpu:.1} µs, bare {bare_cpu:.1} µs");
            errors += f.error_count() + b.error_count();
            me.push(f.rate());
            bare_rates.push(b.rate());
        }
        let refresh: Figures = load(timing, addr, chains, |s| RefreshStep {
            cookie: s.refresh,
            proofs: None,
        })
        .await?;
        refresh.print(&format!("POST /api/auth/refresh ({backend})"));
        errors += refresh.error_count();
        let mut dpop_row = None;
        if !args.no_dpop {
            let figures = measure_dpop(
                addr,
                server.pid(),
                timing,
                args.connections,
                args.dpop_proofs,
                backend,
            )
            .await?;
            errors += figures.iter().map(Figures::error_count).sum::<u64>();
            dpop_row = Some([figures[0].rate(), figures[1].rate(), figures[2].rate()]);
        }
        println!(
            "  server memory (current / peak RSS) after {} sign-ins and the load: {}",
            args.connections + 1,
            memory(server.pid())
        );
        server.stop();
        rows.push(Row {
            backend: backend.clone(),
            me,
            bare: bare_rates,
            rotations: refresh.rate(),
            dpop: dpop_row,
            errors,
        });
        if !args.no_attack {
            let database = fresh_database(backend, &dir, &format!("attack{i}")).await?;
            under_attack(&binary, &database, &dir, backend, args.duration).await?;
        }
        if !args.no_growth {
            let database = fresh_database(backend, &dir, &format!("growth{i}")).await?;
            growth.push((
                backend.clone(),
                measure_growth(&binary, &database, &dir).await?,
            ));
        }
    }
    bare.stop();

    println!(
        "\n{:<10} {:>14} {:>14} {:>8} {:>14} {:>7}",
        "backend", "/api/me req/s", "bare req/s", "ratio", "rotations/s", "errors"
    );
    for r in &rows {
        let (me, bare): (f64, f64) = (r.me.iter().sum(), r.bare.iter().sum());
        let n = r.me.len().max(1) as f64;
        println!(
            "{:<10} {:>14.0} {:>14.0} {:>7.2}x {:>14.0} {:>7}",
            r.backend,
            me / n,
            bare / n,
            me / bare.max(f64::EPSILON),
            r.rotations,
            r.errors
        );
    }
    if rows.iter().any(|r| r.dpop.is_some()) {
        println!(
            "\n{:<10} {:>18} {:>18} {:>18}",
            "backend", "DPoP ES256 req/s", "DPoP EdDSA req/s", "DPoP rotations/s"
        );
        for r in &rows {
            if let Some([es, ed, rot]) = r.dpop {
                println!("{:<10} {es:>18.0} {ed:>18.0} {rot:>18.0}", r.backend);
            }
        }
    }
    for (backend, (before, after)) in &growth {
        println!(
            "growth {backend}: after {} rotations: {before}",
            growth::SESSIONS * growth::ROTATIONS_EACH
        );
        println!("growth {backend}: all signed out, one prune pass past retention: {after}");
    }
    Ok(())
}

/// `/api/me` with DPoP (an ES256 key, then an EdDSA one) and rotation chains of sessions
/// bound to an EdDSA key (what Chromium, Firefox and Safari 17+ make); each request with a
/// proof made in advance. Prints the server's CPU per request, and what verifying one proof
/// costs in this process, for where the time goes.
async fn measure_dpop(
    addr: std::net::SocketAddr,
    pid: u32,
    timing: Timing,
    connections: usize,
    per_connection: usize,
    backend: &str,
) -> Result<[Figures; 3], BoxError> {
    let me_url = format!("http://{addr}/api/me");
    let mut me = Vec::new();
    for (name, key) in [("ES256", ProofKey::new()), ("EdDSA", ProofKey::ed25519())] {
        let mut conn = connect(addr).await?;
        let token = Arc::new(login_bound(&mut conn, addr, &key).await?.access);
        drop(conn);
        let pools: Vec<Proofs> = (0..connections)
            .map(|_| Proofs::make(&key, "GET", &me_url, Some(&token), per_connection))
            .collect();
        let cpu = cpu_seconds(pid);
        let f = load(timing, addr, pools, |proofs| MeStep {
            token: token.clone(),
            proofs: Some(proofs),
        })
        .await?;
        let per_request = cpu_per_request(pid, cpu, &f, timing);
        f.print(&format!("GET /api/me with DPoP {name} ({backend})"));
        println!(
            "  server CPU per request: {per_request:.1} µs; verifying one {name} proof here: {:.1} µs",
            verify_cost(&key, &me_url, &token)
        );
        me.push(f);
    }
    let key = ProofKey::ed25519();
    let refresh_url = format!("http://{addr}/api/auth/refresh");
    let mut conn = connect(addr).await?;
    let mut chains = Vec::with_capacity(connections);
    for _ in 0..connections {
        let session = login_bound(&mut conn, addr, &key).await?;
        let proofs = Proofs::make(&key, "POST", &refresh_url, None, per_connection / 4);
        chains.push((session.refresh, proofs));
    }
    drop(conn);
    let refresh = load(timing, addr, chains, |(cookie, proofs)| RefreshStep {
        cookie,
        proofs: Some(proofs),
    })
    .await?;
    refresh.print(&format!("POST /api/auth/refresh with DPoP ({backend})"));
    let [es, ed]: [Figures; 2] = me.try_into().map_err(|_| "two /api/me scenarios")?;
    Ok([es, ed, refresh])
}

/// Microseconds to verify one proof by `key` (signature, claims, thumbprint), one thread.
fn verify_cost(key: &ProofKey, url: &str, token: &str) -> f64 {
    use tokenpair_server::dpop::proof::{verify, Expected};
    const N: u32 = 500;
    let proofs: Vec<String> = (0..N)
        .map(|_| key.proof("GET", url, Some(token), None))
        .collect();
    let urls = [url.to_owned()];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let expected = Expected {
        method: "GET",
        urls: &urls,
        access_token: Some(token),
        nonce: None,
        now,
        window: Duration::from_secs(60),
    };
    let started = std::time::Instant::now();
    let passed = proofs
        .iter()
        .filter(|p| verify(p, &expected).is_ok())
        .count();
    let took = started.elapsed().as_secs_f64() * 1e6 / f64::from(N);
    if passed != N as usize {
        println!("  (only {passed} of {N} proofs passed the in-process check)");
    }
    took
}

async fn measure_growth(
    binary: &std::path::Path,
    database: &Database,
    dir: &std::path::Path,
) -> Result<(growth::Snapshot, growth::Snapshot), BoxError> {
    let server = start(binary, database, dir);
    let addr = server.base.trim_start_matches("http://").parse()?;
    let cookies = growth::rotate(addr).await?;
    let before = growth::snapshot(database).await?;
    growth::sign_out(addr, &cookies).await?;
    server.stop();
    growth::prune_after_retention(database).await?;
    let after = growth::snapshot(database).await?;
    Ok((before, after))
}

/// The "under attack" scenario on one backend (see [`attack`]).
async fn under_attack(
    binary: &std::path::Path,
    database: &Database,
    dir: &std::path::Path,
    backend: &str,
    duration: Duration,
) -> Result<(), BoxError> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let server = start_defaults(binary, database, dir);
    let addr = server.base.trim_start_matches("http://").parse()?;
    println!("\n== under attack ({backend}, default limits): what another user sees");
    let quiet = attack::victim(addr, duration).await?;
    quiet.print("quiet server", None);
    for (name, addresses) in [
        ("Argon2 flood, 1 address", 1u8),
        ("Argon2 flood, 64 addresses", 64),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let flood = attack::argon2_flood(addr, 64, addresses, stop.clone());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let v = attack::victim(addr, duration).await?;
        stop.store(true, Ordering::Relaxed);
        let answers = flood.await?;
        v.print(name, Some(&quiet));
        println!("  (the flood got {answers} answers, nearly all refusals: 429/503)");
    }
    let slow = attack::slow_clients(addr, 600, 100);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let v = attack::victim(addr, duration).await?;
    slow.abort();
    v.print("600 silent + 100 trickling conns", Some(&quiet));
    println!(
        "  server memory (current / peak RSS) after the attacks: {}",
        memory(server.pid())
    );
    server.stop();
    Ok(())
}
