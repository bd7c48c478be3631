//! A request as data, so the client can send it again after a refresh.

use std::fmt;

/// The HTTP methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// Whether the browser sends cookies with a request (`fetch`'s `credentials`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CredentialsMode {
    /// Only to the page's own origin (the default: the refresh cookie is same-origin).
    #[default]
    SameOrigin,
    /// Also to other origins (a cross-origin API that sets its own cookie, with CORS
    /// credentials allowed).
    Include,
    /// Never.
    Omit,
}

/// A request body.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// JSON text (`Content-Type: application/json`).
    Json(String),
    /// Plain text (`Content-Type: text/plain;charset=UTF-8`).
    Text(String),
    /// Raw bytes (no `Content-Type` unless you set one).
    Bytes(Vec<u8>),
    /// A form (`application/x-www-form-urlencoded`).
    Form(Vec<(String, String)>),
}

/// An HTTP request. Build it with [`Request::get`] & co. and the builder methods.
///
/// ```
/// # use tokenpair_client::Request;
/// let request = Request::put("/api/notes/7")
///     .header("If-Match", "\"v3\"")
///     .query(&[("notify", "false")])
///     .text("buy milk");
/// # let _ = request;
/// ```
#[derive(Clone, PartialEq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Where to: a path (`/api/me`, resolved against the backend's base URL) or an absolute
    /// URL.
    pub url: String,
    /// Query parameters appended to the URL.
    pub query: Vec<(String, String)>,
    /// Headers. `Authorization` is set by the client; a caller's own is replaced.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Option<Body>,
    /// Cookies: `None` takes the backend's setting.
    pub credentials: Option<CredentialsMode>,
    /// Why the request cannot be sent (e.g. a body that could not be written as JSON).
    pub(crate) invalid: Option<String>,
}

impl Request {
    /// A request without a body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            credentials: None,
            invalid: None,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// `POST url`.
    pub fn post(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// `PUT url`.
    pub fn put(url: impl Into<String>) -> Self {
        Self::new(Method::Put, url)
    }

    /// `PATCH url`.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new(Method::Patch, url)
    }

    /// `DELETE url`.
    pub fn delete(url: impl Into<String>) -> Self {
        Self::new(Method::Delete, url)
    }

    /// Adds a header (replacing one of the same name).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds query parameters.
    pub fn query<K: AsRef<str>, V: AsRef<str>>(mut self, params: &[(K, V)]) -> Self {
        self.query.extend(
            params
                .iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned())),
        );
        self
    }

    /// With `body` as JSON, through serde.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Self {
        match crate::json::to_string(body) {
            Ok(text) => self.body = Some(Body::Json(text)),
            Err(why) => self.invalid = Some(format!("the JSON body could not be written: {why}")),
        }
        self
    }

    /// With JSON text as the body.
    pub fn json_text(mut self, text: impl Into<String>) -> Self {
        self.body = Some(Body::Json(text.into()));
        self
    }

    /// With a text body.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.body = Some(Body::Text(text.into()));
        self
    }

    /// With a binary body.
    pub fn bytes(mut self, bytes: Vec<u8>) -> Self {
        self.body = Some(Body::Bytes(bytes));
        self
    }

    /// With a form body.
    pub fn form<K: AsRef<str>, V: AsRef<str>>(mut self, fields: &[(K, V)]) -> Self {
        self.body = Some(Body::Form(
            fields
                .iter()
                .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
                .collect(),
        ));
        self
    }

    /// With cookies sent as `mode` says.
    pub fn credentials(mut self, mode: CredentialsMode) -> Self {
        self.credentials = Some(mode);
        self
    }

    /// The value of header `name`, if set.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The access token this request carries (set by the client), if any.
    pub fn bearer(&self) -> Option<&str> {
        self.header_value("Authorization")?.strip_prefix("Bearer ")
    }

    /// The body as text (JSON, text, or a form as `a=1&b=2`), if it has one.
    pub fn body_text(&self) -> Option<String> {
        match self.body.as_ref()? {
            Body::Json(t) | Body::Text(t) => Some(t.clone()),
            Body::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Body::Form(fields) => {
                let params = web_sys::UrlSearchParams::new().ok()?;
                for (k, v) in fields {
                    params.append(k, v);
                }
                Some(params.to_string().into())
            }
        }
    }
}

/// Never prints header values or the body (they hold tokens and passwords).
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &names)
            .field("body", &self.body.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
