//! DPoP (RFC 9449): tokens bound to a key the browser cannot export. Work in progress
//! (issue 24): [`proof`] checks a proof; the replay store, nonces and the binding follow.

pub mod nonce;
pub mod proof;
pub mod replay;
