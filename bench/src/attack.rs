//! "Under attack": what other users see while attackers flood the password check and tie up
//! connections. The server runs with all its default limits. Each figure is a victim's
//! latency — a sign-in (one Argon2 run), `GET /api/me`, a refresh — first on a quiet server,
//! then during each attack:
//!
//! * **Argon2 flood, one address**: 64 connections from 127.0.1.1 sending wrong passwords
//!   for random accounts and registrations as fast as answers come back;
//! * **Argon2 flood, 64 addresses**: the same spread over 127.0.1.1–64 (registrations of new
//!   names: each address gets its 20 free ones, so the queue is full the whole time);
//! * **slow clients**: 600 connections that send nothing, plus 100 that trickle a request head
//!   a byte a second.
//!
//! Victims connect from 127.0.2.x, so the attackers' throttles are not theirs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{header, Request, StatusCode};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

use crate::load::{handshake, send, BoxError, Conn};

/// A keep-alive HTTP/1.1 connection from a chosen loopback source address.
pub async fn connect_from(addr: SocketAddr, from: Ipv4Addr) -> Result<Conn, BoxError> {
    handshake(raw_from(addr, from).await?).await
}

async fn raw_from(addr: SocketAddr, from: Ipv4Addr) -> Result<TcpStream, BoxError> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn json_post(addr: SocketAddr, path: &str, body: String) -> Result<Request<Full<Bytes>>, BoxError> {
    Ok(Request::post(path)
        .header(header::HOST, addr.to_string())
        .header("x-requested-with", "XMLHttpRequest")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?)
}

/// The victims' latencies over `duration`: sign-ins, `/api/me` and refreshes, one at a time.
pub struct Victim {
    pub sign_in: Vec<Duration>,
    pub me: Vec<Duration>,
    pub refresh: Vec<Duration>,
    pub failures: u64,
}

fn p(v: &[Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    let mut v = v.to_vec();
    v.sort_unstable();
    v[((v.len() - 1) as f64 * q).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.1}ms", d.as_secs_f64() * 1000.0)
}

impl Victim {
    pub fn print(&self, name: &str, quiet: Option<&Victim>) {
        let ratio = |mine: &[Duration], theirs: Option<&[Duration]>| match theirs {
            Some(t) if !t.is_empty() && !mine.is_empty() => format!(
                " ({:.1}x)",
                p(mine, 0.5).as_secs_f64() / p(t, 0.5).as_secs_f64().max(1e-9)
            ),
            _ => String::new(),
        };
        println!(
            "{name:<34} sign-in p50 {:>8}{:<8} p95 {:>8} | /api/me p50 {:>7} | refresh p50 {:>7} | {} sign-ins, {} failed",
            ms(p(&self.sign_in, 0.5)),
            ratio(&self.sign_in, quiet.map(|q| q.sign_in.as_slice())),
            ms(p(&self.sign_in, 0.95)),
            ms(p(&self.me, 0.5)),
            ms(p(&self.refresh, 0.5)),
            self.sign_in.len(),
            self.failures,
        );
    }
}

/// One victim, from 127.0.2.1: sign in as user2, read /api/me, refresh — over and over.
pub async fn victim(addr: SocketAddr, duration: Duration) -> Result<Victim, BoxError> {
    let mut conn = connect_from(addr, Ipv4Addr::new(127, 0, 2, 1)).await?;
    let mut v = Victim {
        sign_in: Vec::new(),
        me: Vec::new(),
        refresh: Vec::new(),
        failures: 0,
    };
    let until = Instant::now() + duration;
    while Instant::now() < until {
        let started = Instant::now();
        let body = r#"{"username":"user2","password":"password2"}"#.to_owned();
        let answer = send(&mut conn, json_post(addr, "/api/auth/login", body)?).await?;
        if answer.status != StatusCode::OK {
            v.failures += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        v.sign_in.push(started.elapsed());
        let json: serde_json::Value = serde_json::from_slice(&answer.body)?;
        let access = json["access_token"].as_str().unwrap_or_default().to_owned();
        let cookie = answer.refresh_cookie.unwrap_or_default();
        let started = Instant::now();
        let me = Request::get("/api/me")
            .header(header::HOST, addr.to_string())
            .header(header::AUTHORIZATION, format!("Bearer {access}"))
            .body(Full::default())?;
        if send(&mut conn, me).await?.status == StatusCode::OK {
            v.me.push(started.elapsed());
        } else {
            v.failures += 1;
        }
        let started = Instant::now();
        let refresh = Request::post("/api/auth/refresh")
            .header(header::HOST, addr.to_string())
            .header("x-requested-with", "XMLHttpRequest")
            .header(header::COOKIE, format!("__Secure-refresh_token={cookie}"))
            .body(Full::default())?;
        if send(&mut conn, refresh).await?.status == StatusCode::OK {
            v.refresh.push(started.elapsed());
        } else {
            v.failures += 1;
        }
    }
    Ok(v)
}

/// `connections` flooders spread over `addresses` source addresses, until `stop`. Returns
/// how many answers they got.
pub fn argon2_flood(
    addr: SocketAddr,
    connections: usize,
    addresses: u8,
    stop: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<u64> {
    let answers = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..connections {
        let from = Ipv4Addr::new(127, 0, 1, 1 + (i % usize::from(addresses.max(1))) as u8);
        let (stop, answers) = (stop.clone(), answers.clone());
        tasks.spawn(async move {
            let Ok(mut conn) = connect_from(addr, from).await else {
                return;
            };
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("flood{}x{i}x{n}", from.octets()[3]);
                let (path, body) = if n.is_multiple_of(2) {
                    (
                        "/api/auth/register",
                        format!(r#"{{"username":"{name}","password":"Password123"}}"#),
                    )
                } else {
                    (
                        "/api/auth/login",
                        format!(r#"{{"username":"{name}","password":"wrong"}}"#),
                    )
                };
                let Ok(request) = json_post(addr, path, body) else {
                    return;
                };
                match send(&mut conn, request).await {
                    Ok(_) => {
                        answers.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => match connect_from(addr, from).await {
                        Ok(c) => conn = c,
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    },
                }
            }
        });
    }
    tokio::spawn(async move {
        while tasks.join_next().await.is_some() {}
        answers.load(Ordering::Relaxed)
    })
}

/// Silent connections and ones that trickle a request head, reopened when the server closes
/// them, until the returned task is aborted (which ends them all).
pub fn slow_clients(
    addr: SocketAddr,
    silent: usize,
    trickling: usize,
) -> tokio::task::JoinHandle<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..silent + trickling {
        let stop = stop.clone();
        let trickle = i >= silent;
        let from = Ipv4Addr::new(127, 0, 3, 1 + (i % 200) as u8);
        tasks.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut stream) = raw_from(addr, from).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                if trickle {
                    let head = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ";
                    for b in head.iter().cycle() {
                        if stop.load(Ordering::Relaxed) || stream.write_all(&[*b]).await.is_err() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                } else {
                    let mut buf = [0u8; 64];
                    let _ = tokio::time::timeout(Duration::from_secs(60), async {
                        use tokio::io::AsyncReadExt;
                        let _ = stream.read(&mut buf).await;
                    })
                    .await;
                }
            }
        });
    }
    tokio::spawn(async move { while tasks.join_next().await.is_some() {} })
}
