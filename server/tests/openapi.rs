//! The OpenAPI document (issue 23) matches the router and its examples are real: every
//! documented operation is served by the real router with that method and no other, no route
//! is registered outside the document except the catch-alls, every path the SPA calls is in
//! it, and every example deserializes into the real type — and back to the same JSON.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use tokenpair_api::{
    paths, Credentials, ErrorBody, ErrorCode, HealthStatus, Me, PasskeyInfo, PasskeyName,
    PasswordChange, PasswordChanged, SecurityEvent, SessionInfo, TokenResponse, UserSummary,
};
use tokenpair_server::http::jwks::{Jwk, JwkSet};
use tokenpair_server::http::routes::passkey_sign_in::PasskeySignIn;
use tokenpair_server::http::routes::passkeys::NewPasskey;
use tokenpair_server::http::routes::reauthenticate::Reauthentication;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

async fn document(server: &TestServer) -> Value {
    let response = server.get("/api/openapi.json").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// (method, path) of every documented operation.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(move |m| (m.to_string(), path.clone()))
        })
        .collect()
}

/// What the router answers `method path` (path parameters filled in), without credentials.
async fn answer(server: &TestServer, method: &str, path: &str) -> (StatusCode, String) {
    let path = path.replace("{id}", "AAAAAAAAAAAAAAAAAAAAAA");
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let r = server
        .client
        .request(method, server.url(&path))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_documented_operation_is_served_with_its_method_and_no_other() {
    let server = start().await;
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    assert!(ops.len() >= 12, "{ops:?}");
    for (method, path) in &ops {
        let (status, body) = answer(&server, method, path).await;
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not routed"
        );
        assert!(
            !(status == StatusCode::NOT_FOUND && body.contains("No such API endpoint")),
            "{method} {path} is documented but falls to the /api catch-all: {body}"
        );
    }
    let documented_paths: BTreeSet<&String> = ops.iter().map(|(_, p)| p).collect();
    for path in documented_paths {
        for method in METHODS {
            if ops.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let (status, _) = answer(&server, method, path).await;
            assert_eq!(
                status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path} is not documented but the router does not refuse it"
            );
        }
    }
}

#[tokio::test]
async fn every_path_the_spa_and_the_docs_name_is_in_the_document() {
    let server = start().await;
    let doc = document(&server).await;
    let documented: BTreeSet<String> = operations(&doc).into_iter().map(|(_, p)| p).collect();
    for path in [
        paths::LOGIN,
        paths::REGISTER,
        paths::REFRESH,
        paths::LOGOUT,
        paths::ME,
        paths::SESSIONS,
        paths::SECURITY_EVENTS,
        paths::SECURITY_NOTICE,
        paths::REAUTHENTICATE,
        paths::ACCOUNT_PASSWORD,
        paths::PASSKEYS,
        paths::PASSKEY_REGISTRATION_OPTIONS,
        paths::PASSKEY_SIGN_IN_OPTIONS,
        paths::PASSKEY_SIGN_IN,
        "/api/passkeys/{id}",
        "/api/sessions/{id}",
        "/api/health",
        "/api/openapi.json",
        "/.well-known/jwks.json",
    ] {
        assert!(
            documented.contains(path),
            "{path} missing from {documented:?}"
        );
    }
    assert_eq!(documented.len(), 19, "no other route: {documented:?}");
}

/// Every `.route(` in the HTTP edge outside `routes!` registrations: only the catch-alls of
/// `/api` and the SPA's own pages, which the document leaves out on purpose.
#[test]
fn no_route_is_registered_outside_the_document_but_the_catch_alls_and_the_spa() {
    let http = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut found = BTreeMap::new();
    let mut stack = vec![http];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if let Some(at) = code.find(".route(\"") {
                    let route = code[at + 8..].split('"').next().unwrap().to_owned();
                    let file = path.file_name().unwrap().to_string_lossy().into_owned();
                    found.insert(format!("{file}:{}", i + 1), route);
                }
            }
        }
    }
    let routes: BTreeSet<&str> = found.values().map(String::as_str).collect();
    assert_eq!(
        routes,
        BTreeSet::from(["/api", "/api/", "/api/{*rest}", "/", "/index.html"]),
        "plain routes (not in the OpenAPI document): {found:?}"
    );
}

fn round_trip<T: DeserializeOwned + Serialize>(example: &Value, at: &str) {
    let parsed: T = serde_json::from_value(example.clone())
        .unwrap_or_else(|e| panic!("{at}: the example does not deserialize: {e}\n{example}"));
    assert_eq!(
        &serde_json::to_value(&parsed).unwrap(),
        example,
        "{at}: the example has members the type does not"
    );
}

/// Deserializes `example` into the type the schema `reference` names.
fn check_example(reference: &Value, example: &Value, at: &str) {
    let (array, name) = match reference.get("$ref") {
        Some(r) => (false, r.as_str().unwrap()),
        None => match reference["items"].get("$ref") {
            Some(r) => (true, r.as_str().unwrap()),
            None => panic!("{at}: an example for an inline schema {reference}"),
        },
    };
    let name = name.trim_start_matches("#/components/schemas/");
    macro_rules! check {
        ($($t:ty),*) => {
            $(if name == stringify!($t) {
                return if array { round_trip::<Vec<$t>>(example, at) } else { round_trip::<$t>(example, at) };
            })*
        };
    }
    check!(
        Credentials,
        ErrorBody,
        HealthStatus,
        Me,
        SecurityEvent,
        SessionInfo,
        TokenResponse,
        UserSummary,
        Jwk,
        JwkSet,
        PasswordChange,
        PasswordChanged,
        Reauthentication,
        PasskeyInfo,
        PasskeyName,
        NewPasskey,
        PasskeySignIn
    );
    panic!("{at}: no Rust type for the schema {name}");
}

/// Every example of a media type: `example`, and each `examples.<name>.value`.
fn media_examples(media: &Value) -> Vec<Value> {
    let mut all: Vec<Value> = media.get("example").cloned().into_iter().collect();
    if let Some(named) = media.get("examples").and_then(Value::as_object) {
        all.extend(named.values().map(|e| e["value"].clone()));
    }
    all
}

#[tokio::test]
async fn every_example_in_the_document_deserializes_into_its_real_type() {
    let server = start().await;
    let doc = document(&server).await;
    let mut checked = 0;
    let mut codes_shown = BTreeSet::new();

    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let reference = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
        for example in schema.get("example").into_iter() {
            if name == "ErrorCode" {
                continue;
            }
            check_example(&reference, example, &format!("schema {name}"));
            checked += 1;
        }
    }
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let at = format!("{method} {path}");
            if let Some(media) = op["requestBody"]["content"].get("application/json") {
                for example in media_examples(media) {
                    check_example(&media["schema"], &example, &format!("{at} request"));
                    checked += 1;
                }
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    continue;
                };
                for media in content.values() {
                    for example in media_examples(media) {
                        let at = format!("{at} {status}");
                        if let Some(code) = example.get("error").and_then(Value::as_str) {
                            assert!(
                                ErrorCode::parse(code).is_some(),
                                "{at}: unknown code {code}"
                            );
                            codes_shown.insert(code.to_owned());
                        }
                        if media
                            .get("schema")
                            .is_some_and(|s| s.get("$ref").is_some() || s.get("items").is_some())
                        {
                            check_example(&media["schema"], &example, &at);
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked >= 40, "only {checked} examples checked");
    // Every code the API can answer appears in an example, except the generic 405 any path
    // can give (the document's description names it).
    let missing: Vec<&str> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !codes_shown.contains(*c) && *c != "method_not_allowed")
        .collect();
    assert!(missing.is_empty(), "codes with no example: {missing:?}");
}

#[tokio::test]
async fn the_headers_and_the_cookie_are_described() {
    let server = start().await;
    let doc = document(&server).await;
    let text = doc.to_string();
    for header in [
        "Retry-After",
        "Link",
        "WWW-Authenticate",
        "Set-Cookie",
        "X-Requested-With",
    ] {
        assert!(
            text.contains(&format!("\"{header}\"")),
            "{header} is not described"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["refresh_cookie"]["in"], "cookie");
    assert_eq!(schemes["refresh_cookie"]["name"], "__Secure-refresh_token");
    let refresh = &doc["paths"]["/api/auth/refresh"]["post"];
    assert_eq!(
        refresh["security"][0]["refresh_cookie"],
        serde_json::json!([])
    );
    let sessions = &doc["paths"]["/api/sessions"]["get"];
    assert_eq!(sessions["security"][0]["bearer"], serde_json::json!([]));
    assert!(sessions["responses"]["200"]["headers"]
        .get("Link")
        .is_some());
}
