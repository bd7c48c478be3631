//! The page parameters the list endpoints share (`?limit=N&cursor=C`) and the `Link` header
//! that points at the next page (RFC 8288).

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::http::error::ApiError;

/// Entries per page unless `?limit=` says otherwise, and the most a page can have.
pub const DEFAULT_PAGE: u32 = 20;
pub const MAX_PAGE: u32 = 100;

/// `?limit=N&cursor=C`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Entries per page: 1–100, default 20.
    #[param(minimum = 1, maximum = 100, example = 20)]
    limit: Option<u32>,
    /// Where the page starts: only as the `Link: rel="next"` URL of the previous page gives it.
    cursor: Option<String>,
}

impl PageQuery {
    /// The page size, checked.
    pub fn limit(&self) -> Result<u32, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::BadRequest(format!(
                "`limit` must be between 1 and {MAX_PAGE}."
            )));
        }
        Ok(limit)
    }

    /// The cursor, parsed by `parse`; one this server did not give out is a 400.
    pub fn cursor<C>(&self, parse: impl Fn(&str) -> Option<C>) -> Result<Option<C>, ApiError> {
        match self.cursor.as_deref() {
            None => Ok(None),
            Some(c) => parse(c).map(Some).ok_or_else(|| {
                ApiError::BadRequest("`cursor` is not one this server gave out.".into())
            }),
        }
    }
}

/// A page as the list endpoints answer it: the entries as a JSON array, and
/// `Link: <path?limit=N&cursor=C>; rel="next"` when there is a next page.
pub fn page_response<T: Serialize>(
    entries: Vec<T>,
    path: &str,
    limit: u32,
    next: Option<String>,
) -> Response {
    let mut response = Json(entries).into_response();
    let Some(cursor) = next else { return response };
    let link = format!("<{path}?limit={limit}&cursor={cursor}>; rel=\"next\"");
    if let Ok(value) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, value);
    }
    response
}
