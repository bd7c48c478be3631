//! HTTP as the client sees it: [`Request`] and [`Response`] as data, the [`Transport`] that
//! sends them (the browser's `fetch` through gloo-net, or a fake in tests), and the rules for
//! where a request may go ([`target`]).

mod fetch;
mod request;
mod response;
pub(crate) mod target;

pub use fetch::{
    send_with_deadline, with_deadline, FetchTransport, SendFuture, Transport, TransportError,
};
pub use request::{Body, CredentialsMode, Method, Request};
pub use response::{next_link, parse_retry_after, Response};
