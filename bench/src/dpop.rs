//! DPoP load: proofs for `GET /api/me` with a DPoP-bound token and for `POST /api/auth/refresh`
//! of a bound session (the steps in [`crate::load`]), each request with a fresh proof (its own
//! `jti`: the server records every one).
//!
//! The proofs are made before the scenario starts, so the figures are the server's: the
//! browser signs its own proofs, and on these 2-core machines a client signing inline would
//! take the cores the server is being measured on.

use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{header, Request, StatusCode};
use tokenpair_testkit::dpop::ProofKey;

use crate::load::{send, BoxError, Conn};

/// Proofs made in advance, one per request, used in order.
pub struct Proofs(std::vec::IntoIter<String>);

impl Proofs {
    /// `count` proofs by `key` for `method url`, presenting `token` if given, made on every
    /// core.
    pub fn make(
        key: &ProofKey,
        method: &str,
        url: &str,
        token: Option<&str>,
        count: usize,
    ) -> Proofs {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = count.div_ceil(threads);
        let proofs = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        (0..per)
                            .map(|_| key.proof(method, url, token, None))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect::<Vec<_>>()
        });
        Proofs(proofs.into_iter())
    }

    pub fn next(&mut self) -> Result<String, BoxError> {
        self.0
            .next()
            .ok_or_else(|| "out of proofs made in advance (raise --dpop-proofs)".into())
    }
}

/// A sign-in with a proof by `key`: the session is bound to it.
pub async fn login_bound(
    conn: &mut Conn,
    addr: SocketAddr,
    key: &ProofKey,
) -> Result<crate::load::Session, BoxError> {
    let url = format!("http://{addr}/api/auth/login");
    let body = r#"{"username":"user1","password":"password1"}"#;
    let request = Request::post("/api/auth/login")
        .header(header::HOST, addr.to_string())
        .header("x-requested-with", "XMLHttpRequest")
        .header(header::CONTENT_TYPE, "application/json")
        .header("dpop", key.proof("POST", &url, None, None))
        .body(Full::new(Bytes::from_static(body.as_bytes())))?;
    let answer = send(conn, request).await?;
    let json: serde_json::Value = serde_json::from_slice(&answer.body)?;
    if answer.status != StatusCode::OK || json["token_type"] != "DPoP" {
        return Err(format!("bound sign-in failed: {} {json}", answer.status).into());
    }
    Ok(crate::load::Session {
        access: json["access_token"]
            .as_str()
            .ok_or("no access_token")?
            .to_owned(),
        refresh: answer.refresh_cookie.ok_or("no refresh cookie")?,
    })
}
