//! An HTTP answer: status, headers, body.

use std::fmt;
use std::time::Duration;

use serde::de::DeserializeOwned;

/// An HTTP answer.
#[derive(Clone, PartialEq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers (names lower-case, as `fetch` gives them).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// An answer with a status and a text body, no headers.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: body.into().into_bytes(),
        }
    }

    /// With header `name: value` added.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text: UTF-8 decoded by the browser's `TextDecoder` (invalid bytes
    /// replaced).
    pub fn text(&self) -> String {
        web_sys::TextDecoder::new()
            .and_then(|d| d.decode_with_u8_array(&self.body))
            .unwrap_or_default()
    }

    /// The body as JSON, through serde; the error says what did not fit.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        crate::json::from_str(&self.text())
    }

    /// `Retry-After` (delta-seconds or an HTTP date), when the server sent one. Never
    /// negative; a date in the past is zero.
    pub fn retry_after(&self) -> Option<Duration> {
        parse_retry_after(self.header("retry-after")?, js_sys::Date::now())
    }

    /// The target of a `Link: <…>; rel="next"` header (RFC 8288), when there is a next page.
    pub fn next_link(&self) -> Option<String> {
        next_link(self.header("link")?)
    }
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`, at wall-clock time
/// `now_ms`.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = js_sys::Date::parse(value);
    at.is_finite().then(|| crate::time::from_ms(at - now_ms))
}

/// The `rel="next"` target of a `Link` header value (`<url>; rel="next"`, possibly among
/// other links separated by commas).
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            })
            .then(|| target.to_owned())
    })
}

/// Never prints the body (a token response carries the access token).
impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field(
                "body",
                &format_args!("<{} bytes redacted>", self.body.len()),
            )
            .finish()
    }
}
