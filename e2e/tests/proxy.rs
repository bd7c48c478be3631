//! The fault-injecting proxy itself, against a tiny local hyper upstream (no browser, no
//! tokenpair server): every fault type, keep-alive, matching rules and request counting.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokenpair_e2e::{Fault, Proxy};
use tokio::net::TcpListener;

/// What the upstream saw: method, path+query, Host header, body.
type Seen = Arc<Mutex<Vec<(String, String, String, String)>>>;

struct Upstream {
    port: u16,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Upstream {
    /// Answers every request with 200, `x-upstream: yes`, a cookie and a body naming the
    /// request.
    async fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let task = tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let log = log.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let log = log.clone();
                        async move {
                            let method = req.method().to_string();
                            let uri = req.uri().to_string();
                            let host = req
                                .headers()
                                .get("host")
                                .map(|h| h.to_str().unwrap().to_owned())
                                .unwrap_or_default();
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let body = String::from_utf8_lossy(&body).into_owned();
                            let answer = format!("upstream saw {method} {uri} body={body}");
                            log.lock().unwrap().push((method, uri, host, body));
                            let mut response = Response::new(Full::new(Bytes::from(answer)));
                            response
                                .headers_mut()
                                .insert("x-upstream", "yes".parse().unwrap());
                            response
                                .headers_mut()
                                .insert("set-cookie", "c=1; Path=/; HttpOnly".parse().unwrap());
                            Ok::<_, Infallible>(response)
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Upstream { port, seen, task }
    }

    fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A keep-alive client, as a browser would be.
fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

async fn send(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: &str,
    url: &str,
    body: &str,
) -> Result<(u16, hyper::HeaderMap, String), hyper_util::client::legacy::Error> {
    let req = Request::builder()
        .method(method)
        .uri(url)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = client.request(req).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

/// The `io::ErrorKind` somewhere in an error's source chain.
fn io_error_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = e.source();
    }
    None
}

async fn setup() -> (Upstream, Proxy) {
    let upstream = Upstream::start().await;
    let proxy = Proxy::start(upstream.port).await;
    (upstream, proxy)
}

#[tokio::test]
async fn without_a_rule_the_proxy_forwards_method_path_query_body_and_host_and_returns_the_whole_answer(
) {
    let (upstream, proxy) = setup().await;
    let (status, headers, body) = send(&client(), "POST", &proxy.url("/api/x?y=1"), "hello")
        .await
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(body, "upstream saw POST /api/x?y=1 body=hello");
    assert_eq!(headers["x-upstream"], "yes");
    assert_eq!(headers["set-cookie"], "c=1; Path=/; HttpOnly");
    let seen = upstream.seen.lock().unwrap().clone();
    // The Host stays the proxy's (the origin the browser sees).
    assert_eq!(seen[0].2, format!("127.0.0.1:{}", proxy.port()));
    let log = proxy.log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].method.as_str(), log[0].path.as_str()),
        ("POST", "/api/x")
    );
    assert_eq!(log[0].query.as_deref(), Some("y=1"));
    assert_eq!((log[0].status, log[0].forwarded), (Some(200), true));
}

#[tokio::test]
async fn keep_alive_requests_share_one_connection_and_each_is_forwarded_and_counted() {
    let (upstream, proxy) = setup().await;
    let client = client();
    for i in 0..5 {
        let (status, _, body) = send(&client, "GET", &proxy.url("/a"), "").await.unwrap();
        assert_eq!(status, 200, "request {i}");
        assert!(body.starts_with("upstream saw GET /a"));
    }
    assert_eq!(upstream.hits(), 5);
    assert_eq!(proxy.count("GET", "/a"), 5);
    assert_eq!(
        proxy.connections(),
        1,
        "the client reused its keep-alive connection"
    );
}

#[tokio::test]
async fn a_canned_answer_is_returned_with_its_headers_and_body_without_reaching_the_server() {
    let (upstream, proxy) = setup().await;
    proxy.set("POST", "/api/auth/refresh", Fault::too_many_attempts(2));
    let client = client();
    let (status, headers, body) = send(&client, "POST", &proxy.url("/api/auth/refresh"), "")
        .await
        .unwrap();
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(headers["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"], "too_many_attempts");
    assert!(json["message"].as_str().unwrap().contains("2 seconds"));

    proxy.set("*", "/api/", Fault::status(404));
    let (status, _, _) = send(&client, "GET", &proxy.url("/api/me"), "")
        .await
        .unwrap();
    assert_eq!(status, 404);
    // The connection survives a canned answer (keep-alive).
    assert_eq!(proxy.connections(), 1);
    assert_eq!(upstream.hits(), 0);
    assert_eq!(proxy.count("POST", "/api/auth/refresh"), 1);
    assert_eq!(proxy.exchanges("*", "/api/me")[0].status, Some(404));
    assert!(!proxy.log().iter().any(|e| e.forwarded));
}

#[tokio::test]
async fn the_most_specific_rule_wins_and_clearing_it_lets_requests_through_again() {
    let (upstream, proxy) = setup().await;
    let client = client();
    proxy.set("*", "/api/", Fault::status(503));
    proxy.set("POST", "/api/auth/", Fault::status(403));
    proxy.set("*", "/api/auth/", Fault::status(408));
    let status = |m: &'static str, p: &'static str| {
        let client = client.clone();
        let url = proxy.url(p);
        async move { send(&client, m, &url, "").await.unwrap().0 }
    };
    assert_eq!(status("POST", "/api/auth/logout").await, 403);
    assert_eq!(status("GET", "/api/auth/logout").await, 408);
    assert_eq!(status("GET", "/api/me").await, 503);
    assert_eq!(status("GET", "/index.html").await, 200);
    proxy.clear("POST", "/api/auth/");
    assert_eq!(status("POST", "/api/auth/logout").await, 408);
    proxy.clear_all();
    assert_eq!(status("POST", "/api/auth/logout").await, 200);
    assert_eq!(upstream.hits(), 2);
    assert_eq!(proxy.count("*", "/api/auth/logout"), 4);
    assert_eq!(proxy.count("POST", "/api/auth/logout"), 3);
}

#[tokio::test]
async fn a_held_request_gets_no_answer_until_the_rule_is_cleared_and_then_never_reaches_the_server()
{
    let (upstream, proxy) = setup().await;
    proxy.set("POST", "/api/auth/refresh", Fault::Hang);
    let held_client = client();
    let url = proxy.url("/api/auth/refresh");
    let pending = tokio::spawn(async move { send(&held_client, "POST", &url, "").await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(!pending.is_finished(), "answered while held");
    assert_eq!(proxy.count("POST", "/api/auth/refresh"), 1);

    // Other paths pass meanwhile.
    let (status, _, _) = send(&client(), "GET", &proxy.url("/other"), "")
        .await
        .unwrap();
    assert_eq!(status, 200);

    proxy.clear("POST", "/api/auth/refresh");
    let result = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("let go after the clear")
        .unwrap();
    assert!(
        result.is_err(),
        "no answer, the connection closed: {result:?}"
    );
    assert_eq!(upstream.hits(), 1, "only /other reached the server");
    let held = &proxy.exchanges("POST", "/api/auth/refresh")[0];
    assert_eq!(
        (held.fault, held.status, held.forwarded),
        ("hang", None, false)
    );
}

#[tokio::test]
async fn a_held_request_stays_unanswered_until_the_client_gives_up() {
    let (_upstream, proxy) = setup().await;
    proxy.set("*", "/", Fault::Hang);
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_millis(500),
        send(&client(), "GET", &proxy.url("/x"), ""),
    )
    .await;
    assert!(result.is_err(), "still held when the client gave up");
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(proxy.count("GET", "/x"), 1);
}

#[tokio::test]
async fn a_delay_holds_the_request_that_long_and_then_forwards_it() {
    let (upstream, proxy) = setup().await;
    proxy.set("GET", "/slow", Fault::Delay(Duration::from_millis(600)));
    let started = Instant::now();
    let (status, _, body) = send(&client(), "GET", &proxy.url("/slow"), "")
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(600));
    assert_eq!(status, 200);
    assert!(body.starts_with("upstream saw GET /slow"));
    assert_eq!(upstream.hits(), 1);
}

#[tokio::test]
async fn reset_and_close_end_the_connection_with_a_tcp_reset_or_a_fin_no_answer_and_never_reach_the_server(
) {
    let (upstream, proxy) = setup().await;
    for (fault, reset) in [(Fault::Reset, true), (Fault::Close, false)] {
        proxy.set("POST", "/api/auth/logout", fault.clone());
        let result = send(&client(), "POST", &proxy.url("/api/auth/logout"), "").await;
        let error = result.expect_err("no answer");
        assert_eq!(
            io_error_kind(&error) == Some(std::io::ErrorKind::ConnectionReset),
            reset,
            "{fault:?}: {error:?}"
        );
    }
    // The rest keeps working, on new connections.
    let (status, _, _) = send(&client(), "GET", &proxy.url("/"), "").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(upstream.hits(), 1);
    assert_eq!(proxy.count("POST", "/api/auth/logout"), 2);
    let kinds: Vec<_> = proxy
        .exchanges("POST", "/api/auth/logout")
        .iter()
        .map(|e| (e.fault, e.status))
        .collect();
    assert_eq!(kinds, [("reset", None), ("close", None)]);
}

#[tokio::test]
async fn a_dropped_response_reaches_the_server_but_the_client_gets_no_answer() {
    let (upstream, proxy) = setup().await;
    proxy.set("POST", "/api/auth/logout", Fault::DropResponse);
    let result = send(&client(), "POST", &proxy.url("/api/auth/logout"), "bye").await;
    assert!(result.is_err(), "answered: {result:?}");
    assert_eq!(upstream.hits(), 1, "the server acted");
    assert_eq!(upstream.seen.lock().unwrap()[0].3, "bye");
    let e = &proxy.exchanges("POST", "/api/auth/logout")[0];
    assert_eq!(
        (e.fault, e.forwarded, e.status),
        ("drop-response", true, Some(200))
    );
}

#[tokio::test]
async fn an_unreachable_server_is_a_502_from_the_proxy() {
    let upstream = Upstream::start().await;
    let port = upstream.port;
    drop(upstream);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let proxy = Proxy::start(port).await;
    let (status, _, body) = send(&client(), "GET", &proxy.url("/"), "").await.unwrap();
    assert_eq!(status, 502, "{body}");
}

#[tokio::test]
async fn dropping_the_proxy_closes_its_port_and_its_open_connections() {
    let (_upstream, proxy) = setup().await;
    proxy.set("*", "/held", Fault::Hang);
    let url = proxy.url("/held");
    let port = proxy.port();
    let pending = tokio::spawn(async move { send(&client(), "GET", &url, "").await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(proxy);
    let result = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("the held connection closed")
        .unwrap();
    assert!(result.is_err());
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "the port still accepts connections"
    );
}
