//! The load generator: keep-alive HTTP/1.1 connections over hyper, each sending one kind of
//! request over and over ([`Step`]) for a warm-up and then a measured time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{header, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::dpop::Proofs;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long each scenario runs.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warmup: Duration,
    pub duration: Duration,
}

pub type Conn = SendRequest<Full<Bytes>>;

pub async fn connect(addr: SocketAddr) -> Result<Conn, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    handshake(stream).await
}

/// A keep-alive HTTP/1.1 client connection over `stream`, driven by a task of its own.
pub async fn handshake(stream: TcpStream) -> Result<Conn, BoxError> {
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

pub struct Answer {
    pub status: StatusCode,
    pub refresh_cookie: Option<String>,
    pub body: Bytes,
}

pub async fn send(conn: &mut Conn, request: Request<Full<Bytes>>) -> Result<Answer, BoxError> {
    conn.ready().await?;
    let response = conn.send_request(request).await?;
    let status = response.status();
    let refresh_cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("__Secure-refresh_token="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    let body = response.into_body().collect().await?.to_bytes();
    Ok(Answer {
        status,
        refresh_cookie,
        body,
    })
}

pub struct Session {
    pub access: String,
    pub refresh: String,
}

pub async fn login(conn: &mut Conn, addr: SocketAddr) -> Result<Session, BoxError> {
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
pub trait Step: Send + 'static {
    fn request(&mut self, host: &str) -> Result<Request<Full<Bytes>>, BoxError>;
    /// Looks at a 200 answer; `false` if the chain cannot go on.
    fn accept(&mut self, answer: &Answer) -> bool;
}

/// `GET /api/me` with a Bearer token, or — with `proofs` — a DPoP-bound one and a proof each.
pub struct MeStep {
    pub token: Arc<String>,
    pub proofs: Option<Proofs>,
}

impl Step for MeStep {
    fn request(&mut self, host: &str) -> Result<Request<Full<Bytes>>, BoxError> {
        let scheme = if self.proofs.is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        let mut request = Request::get("/api/me")
            .header(header::HOST, host)
            .header(header::AUTHORIZATION, format!("{scheme} {}", self.token));
        if let Some(proofs) = &mut self.proofs {
            request = request.header("dpop", proofs.next()?);
        }
        Ok(request.body(Full::default())?)
    }

    fn accept(&mut self, _: &Answer) -> bool {
        true
    }
}

/// A rotation chain: each refresh with the cookie the last one set (and, for a bound
/// session, a proof each).
pub struct RefreshStep {
    pub cookie: String,
    pub proofs: Option<Proofs>,
}

impl Step for RefreshStep {
    fn request(&mut self, host: &str) -> Result<Request<Full<Bytes>>, BoxError> {
        let mut request = Request::post("/api/auth/refresh")
            .header(header::HOST, host)
            .header("x-requested-with", "XMLHttpRequest")
            .header(
                header::COOKIE,
                format!("__Secure-refresh_token={}", self.cookie),
            );
        if let Some(proofs) = &mut self.proofs {
            request = request.header("dpop", proofs.next()?);
        }
        Ok(request.body(Full::default())?)
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
pub struct Figures {
    pub requests: u64,
    pub elapsed: Duration,
    latencies_us: Vec<u32>,
    /// Non-200 statuses (or "rotation did not advance") and how often.
    pub errors: Vec<(String, u64)>,
}

impl Figures {
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let i = ((self.latencies_us.len() as f64 - 1.0) * p).round() as usize;
        Duration::from_micros(u64::from(self.latencies_us[i]))
    }

    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    pub fn error_count(&self) -> u64 {
        self.errors.iter().map(|(_, n)| n).sum()
    }

    /// One line of the results table.
    pub fn print(&self, name: &str) {
        println!(
            "{name:<44} {:>9} {:>10.0} {:>9} {:>9} {:>7}",
            self.requests,
            self.rate(),
            fmt_latency(self.percentile(0.50)),
            fmt_latency(self.percentile(0.99)),
            self.error_count(),
        );
        if !self.errors.is_empty() {
            println!("  errors: {:?}", self.errors);
        }
    }
}

fn fmt_latency(d: Duration) -> String {
    format!("{:.2}ms", d.as_secs_f64() * 1000.0)
}

/// Runs one scenario: a connection per item of `seeds`, each looping its step until the
/// warm-up and the measured time are over.
pub async fn load<T, S: Step>(
    timing: Timing,
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
    tokio::time::sleep(timing.warmup).await;
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(timing.duration).await;
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
