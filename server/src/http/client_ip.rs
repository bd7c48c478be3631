//! The client address of a request, as the per-address limits and the logs use it: the TCP
//! peer, or what a trusted proxy reports ([`crate::forwarding`]).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::forwarding::{limit_key, resolve};
use crate::security_events::Client;
use crate::state::AppState;

/// The client address of this request (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp {
    /// The address itself, for the logs.
    pub addr: IpAddr,
    /// What the per-address limits count: the address (IPv4), or its network (IPv6).
    pub key: IpAddr,
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ci| ci.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let config = &state.config;
        let addr = resolve(
            peer,
            &parts.headers,
            &config.network.trusted_proxies,
            config.network.client_address_header,
        );
        Ok(ClientIp {
            addr,
            key: limit_key(addr, config.network.ipv6_client_prefix),
        })
    }
}

/// The client as a security event records it: its address and user agent.
impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = ClientIp::from_request_parts(parts, state).await?;
        Ok(Client {
            addr: Some(ip.addr),
            user_agent: super::extract::user_agent(&parts.headers),
        })
    }
}
