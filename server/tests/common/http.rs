//! Talking to a test server: token responses taken apart, exact `Set-Cookie` parsing, and
//! assertions on the JSON error shape.

use reqwest::header::{self, HeaderMap};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use super::jwt::claims_of;

/// What a client holds after a sign-in or a refresh.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    /// The refresh token (the cookie value).
    pub refresh: String,
    pub sid: String,
    pub user_id: i64,
}

/// A successful token response, taken apart.
pub struct Granted {
    pub tokens: Tokens,
    pub cookie: SetCookie,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

/// Asserts a token response with `status` and takes it apart.
pub async fn granted(response: Response, status: StatusCode) -> Granted {
    let got = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "expected a token response, got {got}: {text}");
    let body: Value = serde_json::from_str(&text).expect("token response is JSON");
    let cookie = the_refresh_cookie(&headers);
    let access = body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let claims = claims_of(&access);
    let tokens = Tokens {
        sid: claims["sid"].as_str().expect("sid claim").to_owned(),
        user_id: body["user"]["id"].as_i64().expect("user.id"),
        access,
        refresh: cookie.value.clone(),
    };
    Granted {
        tokens,
        cookie,
        headers,
        body,
        text,
    }
}

/// One `Set-Cookie` header, parsed just enough to assert on every attribute.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub raw: String,
    pub name: String,
    pub value: String,
    /// Attribute names as sent (e.g. `HttpOnly`, `Max-Age`) with their values.
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn parse(raw: &str) -> SetCookie {
        let mut parts = raw.split(';').map(str::trim);
        let (name, value) = parts
            .next()
            .and_then(|nv| nv.split_once('='))
            .expect("name=value");
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
                None => (p.to_owned(), None),
            })
            .collect();
        SetCookie {
            raw: raw.to_owned(),
            name: name.to_owned(),
            value: value.to_owned(),
            attrs,
        }
    }

    /// The attribute's value (`Some(None)` for a flag), case-insensitive on the name.
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn max_age(&self) -> i64 {
        self.attr("Max-Age")
            .flatten()
            .unwrap_or_else(|| panic!("no Max-Age in {}", self.raw))
            .parse()
            .expect("numeric Max-Age")
    }

    /// The attribute names, lower-cased and sorted.
    pub fn attr_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .attrs
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        names.sort();
        names
    }

    /// Asserts the attributes every refresh cookie (set or cleared) must carry, and nothing else
    /// besides `Max-Age`: `HttpOnly; Secure; SameSite=Strict; Path=/api/auth`, no `Domain`.
    pub fn assert_refresh_cookie_attributes(&self) {
        assert_eq!(self.name, "__Secure-refresh_token", "{}", self.raw);
        assert_eq!(
            self.attr("HttpOnly"),
            Some(None),
            "HttpOnly flag: {}",
            self.raw
        );
        assert_eq!(self.attr("Secure"), Some(None), "Secure flag: {}", self.raw);
        assert_eq!(
            self.attr("SameSite"),
            Some(Some("Strict")),
            "SameSite=Strict: {}",
            self.raw
        );
        assert_eq!(
            self.attr("Path"),
            Some(Some("/api/auth")),
            "Path=/api/auth: {}",
            self.raw
        );
        assert_eq!(
            self.attr("Domain"),
            None,
            "no Domain (host-only): {}",
            self.raw
        );
        assert_eq!(
            self.attr_names(),
            ["httponly", "max-age", "path", "samesite", "secure"],
            "exactly these attributes: {}",
            self.raw
        );
    }

    /// Asserts this is the deletion of the refresh cookie.
    pub fn assert_clears_refresh_cookie(&self) {
        self.assert_refresh_cookie_attributes();
        assert_eq!(
            self.value, "",
            "a clearing cookie carries no value: {}",
            self.raw
        );
        assert_eq!(self.max_age(), 0, "{}", self.raw);
    }
}

/// Every `Set-Cookie` of a response.
pub fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| SetCookie::parse(v.to_str().expect("ASCII Set-Cookie")))
        .collect()
}

/// The one `Set-Cookie: __Secure-refresh_token=…` of a response (asserts there is exactly one; a
/// sign-in also sets the `device` cookie, an answer to an old-name cookie deletes that one, and
/// nothing else is ever set).
pub fn the_refresh_cookie(headers: &HeaderMap) -> SetCookie {
    let all = set_cookies(headers);
    assert!(
        all.iter().all(|c| c.name == "__Secure-refresh_token"
            || c.name == "device"
            || (c.name == "refresh_token" && c.value.is_empty() && c.max_age() == 0)),
        "only the refresh and device cookies (and the old name's deletion): {all:?}"
    );
    let mut refresh: Vec<SetCookie> = all
        .into_iter()
        .filter(|c| c.name == "__Secure-refresh_token")
        .collect();
    assert_eq!(
        refresh.len(),
        1,
        "exactly one refresh_token Set-Cookie: {refresh:?}"
    );
    refresh.remove(0)
}

/// The `Set-Cookie: device=…` of a sign-in response, if any.
pub fn the_device_cookie(headers: &HeaderMap) -> Option<SetCookie> {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.name == "device")
}

/// A JSON error answer, taken apart.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub code: String,
    pub message: String,
    pub body: Value,
}

/// Asserts an error answer with `status` and `{ "error": code, "message": … }`.
pub async fn expect_error(response: Response, status: StatusCode, code: &str) -> ApiError {
    let got = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body");
    assert_eq!(got, status, "status (body: {text})");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "JSON error, got {content_type:?}: {text}"
    );
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON error body ({e}): {text}"));
    let obj = body.as_object().expect("an object");
    assert_eq!(obj.len(), 2, "exactly {{error, message}}: {text}");
    let message = body["message"]
        .as_str()
        .expect("message is a string")
        .to_owned();
    assert!(
        !message.trim().is_empty(),
        "a human-readable message: {text}"
    );
    assert_eq!(body["error"], json!(code), "error code: {text}");
    ApiError {
        status,
        headers,
        code: code.to_owned(),
        message,
        body,
    }
}

/// Asserts a 401 from a Bearer route: RFC 6750 challenge plus the JSON body.
pub async fn expect_invalid_token(response: Response) -> ApiError {
    let err = expect_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let challenge = err
        .headers
        .get(header::WWW_AUTHENTICATE)
        .expect("a 401 carries WWW-Authenticate")
        .to_str()
        .expect("ASCII challenge");
    assert!(
        challenge.starts_with("Bearer "),
        "Bearer challenge: {challenge}"
    );
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "error=\"invalid_token\": {challenge}"
    );
    err
}

/// Asserts a refused refresh: 401 `code`, and the response deletes the cookie.
pub async fn expect_refresh_refused(response: Response, code: &str) -> ApiError {
    let cookie = the_refresh_cookie(response.headers());
    cookie.assert_clears_refresh_cookie();
    let err = expect_error(response, StatusCode::UNAUTHORIZED, code).await;
    let challenge = err
        .headers
        .get(header::WWW_AUTHENTICATE)
        .expect("a 401 carries WWW-Authenticate");
    assert!(challenge.to_str().expect("ascii").starts_with("Bearer"));
    err
}

/// Asserts RFC 9470's answer exactly: 401, the JSON code `insufficient_user_authentication`,
/// and `WWW-Authenticate` equal to `challenge`.
pub async fn assert_step_up_required(response: Response, challenge: &str) {
    let www = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    expect_error(
        response,
        StatusCode::UNAUTHORIZED,
        "insufficient_user_authentication",
    )
    .await;
    assert_eq!(www.as_deref(), Some(challenge));
}
