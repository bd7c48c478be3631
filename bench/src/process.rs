//! The processes the bench measures: starting the server on a fresh database (through
//! tokenpair-testkit), and how much CPU a process used.

use std::path::{Path, PathBuf};

use sqlx::{Connection, Executor};
use tokenpair_server::db::Database;
use tokenpair_testkit::{server_command, ServerProcess};

use crate::load::{BoxError, Figures, Timing};

const SECRET: &str = "tokenpair-bench-fixed-secret-0123456789abcdefghijklmnop";

/// User + system CPU seconds a process has used (`/proc/<pid>/stat`, clock ticks of 1/100 s).
pub fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the `(comm)`: state is field 3; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Server CPU per measured request, in µs (the warm-up's requests are not counted, so its
/// CPU is left out proportionally: the rate is the same).
pub fn cpu_per_request(pid: u32, before: f64, f: &Figures, timing: Timing) -> f64 {
    let total = timing.warmup + timing.duration;
    let share = timing.duration.as_secs_f64() / total.as_secs_f64();
    (cpu_seconds(pid) - before) * share * 1e6 / (f.requests.max(1) as f64)
}

pub fn start(binary: &Path, database: &Database, dir: &Path) -> ServerProcess {
    start_with(binary, database, dir, true)
}

/// The server with every default limit in place (the "under attack" scenario).
pub fn start_defaults(binary: &Path, database: &Database, dir: &Path) -> ServerProcess {
    start_with(binary, database, dir, false)
}

fn start_with(binary: &Path, database: &Database, dir: &Path, lift_limits: bool) -> ServerProcess {
    let url = match database {
        Database::Sqlite(path) => format!("sqlite://{}", path.display()),
        Database::Postgres(url) => url.clone(),
    };
    let mut cmd = server_command(binary, &url);
    // Throughput runs: one client address and one account drive every connection, so the
    // per-session refresh limit and the per-user session cap are lifted here (the "under
    // attack" scenario runs with the defaults).
    cmd.env("ACCESS_TOKEN_SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .arg("--static-dir")
        .arg(dir.join("dist"));
    if lift_limits {
        cmd.env("REFRESH_RATE_LIMIT", "0")
            .env("MAX_SESSIONS_PER_USER", "1000");
    }
    ServerProcess::spawn(cmd)
}

pub async fn fresh_database(
    backend: &str,
    dir: &std::path::Path,
    name: &str,
) -> Result<Database, BoxError> {
    match backend {
        "sqlite" => Ok(Database::Sqlite(dir.join(format!("{name}.db")))),
        "postgres" => {
            let admin = std::env::var("TOKENPAIR_TEST_PG_URL").map_err(|_| {
                "TOKENPAIR_TEST_PG_URL is not set: run through `make bench` (scripts/pg.sh)"
            })?;
            let name = format!("{name}_{}", std::process::id());
            let mut conn = sqlx::postgres::PgConnection::connect(&admin).await?;
            conn.execute(format!("CREATE DATABASE {name}").as_str())
                .await?;
            conn.close().await?;
            let (base, _) = admin
                .rsplit_once('/')
                .ok_or("admin URL without a database")?;
            Ok(Database::Postgres(format!("{base}/{name}")))
        }
        other => Err(format!("unknown backend {other:?} (sqlite, postgres)").into()),
    }
}

/// An executable next to this one (`cargo build --release -p tokenpair-server` puts it there).
pub fn sibling(name: &str) -> Result<PathBuf, BoxError> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or("the bench executable has no directory")?;
    let path = dir.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(format!(
            "{} does not exist: cargo build --release -p tokenpair-server",
            path.display()
        )
        .into())
    }
}

/// "current / peak RSS" of a process in MiB (`/proc/<pid>/status`).
pub fn memory(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let mib = |field: &str| {
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or("?".to_owned(), |kb| format!("{:.1}", kb / 1024.0))
    };
    format!("{} / {} MiB", mib("VmRSS:"), mib("VmHWM:"))
}
