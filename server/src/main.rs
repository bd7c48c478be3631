//! `tokenpair-server`: flags → config → serve.

use std::process::ExitCode;

use clap::Parser;
use tokenpair_server::config::{Command, LogFormat};
use tokenpair_server::{key_commands, serve, AppState, Args, Config, StartupError};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    return_large_blocks_to_the_os();
    tokenpair_server::http::listener::raise_open_files_limit();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokenpair-server: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async_main())
}

/// glibc serves large allocations with `mmap` only until the first one is freed; then it raises
/// its threshold and keeps later ones — each Argon2 run's 19 MiB — in per-thread heaps that
/// never shrink (dozens of sign-ins grew the server to hundreds of MiB). A fixed threshold
/// turns that adaptation off: blocks of 256 KiB and more are mapped and unmapped every time.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_os() {
    // SAFETY: `mallopt` only changes allocator tuning; it is called before any other thread
    // exists, and a failure (return 0) just leaves the default behaviour.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_os() {}

/// The log: `RUST_LOG` filters (default `info`); `LOG_FORMAT=json` writes one JSON object per
/// line (time, level, target, message and the event's fields at the top level).
fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .init(),
        // Colours only for a person at a terminal: a log file or shipper gets plain text.
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
    }
}

async fn async_main() -> ExitCode {
    let args = Args::parse();
    let log_format = args.log_format;
    init_logging(log_format);
    let command = args.command.clone();
    let config = match Config::try_from(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tokenpair-server: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(Command::Keys { action }) = command {
        return match key_commands::run(&config, action).await {
            Ok(out) => {
                print!("{out}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tokenpair-server keys: {e}");
                ExitCode::FAILURE
            }
        };
    }
    match run(config, log_format).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokenpair-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config, log_format: LogFormat) -> Result<(), StartupError> {
    let addr = config.network.addr;
    let demo = config.demo_users;
    let public = config.network.public_url.clone();
    let db = config.database.describe();
    let state = AppState::new(config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartupError::Listen { addr, source })?;
    let local = listener.local_addr().map_err(StartupError::Serve)?;
    // For people: on stdout beside the text log; with LOG_FORMAT=json on stderr, so stdout
    // holds nothing but JSON lines.
    let say = |line: String| match log_format {
        LogFormat::Text => println!("{line}"),
        LogFormat::Json => eprintln!("{line}"),
    };
    // The address people open: PUBLIC_URL, or `http://localhost:PORT` on a loopback address
    // (passkeys need a domain name; an IP address is never a WebAuthn relying-party id).
    let open_at = if public.is_explicit() {
        public.origin().to_owned()
    } else if local.ip().is_loopback() || local.ip().is_unspecified() {
        format!("http://localhost:{}", local.port())
    } else {
        format!("http://{local}")
    };
    say(format!(
        "tokenpair is running at {open_at}  (database: {db})"
    ));
    if demo {
        say("demo accounts: user1 / password1, user2 / password2".into());
    }
    // The readiness signal launchers wait for (tokenpair-testkit, make cluster): the socket is
    // bound and the state built, so a request sent now is served.
    say(format!("listening on http://{local}"));
    serve(listener, state, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
