//! [`TokenClient`]: one per tab. It owns the auth state and hands out the two call handles.
//!
//! ```no_run
//! use tokenpair_client::{ClientConfig, TokenClient};
//! let client = TokenClient::new(ClientConfig::default());
//! client.start(); // restore the session through the refresh cookie
//! let api = client.api(); // Bearer calls: api.get_json::<T>("/api/me")
//! let auth = client.auth(); // auth.sign_in(&credentials), auth.sign_out(scope)
//! let store = client.store(); // signals: store.signed_in(), store.user(), store.problem()
//! # let _ = (api, auth, store);
//! ```
//! In a Leptos app, [`crate::provide_auth`] does this and puts it in the context.

use std::future::Future;
use std::rc::Rc;

use crate::api::ApiClient;
use crate::config::ClientConfig;
use crate::core::Core;
use crate::endpoints::AuthEndpoints;
use crate::refresh::{RefreshOutcome, RefreshReason};
use crate::state::AuthStore;
use crate::transport::{FetchTransport, Transport};

/// The token client of one tab. Cheap to clone (all clones share the state); dropping the
/// last clone, or [`TokenClient::shutdown`], stops its timers and closes its channel.
#[derive(Clone)]
pub struct TokenClient {
    core: Rc<Core>,
}

impl TokenClient {
    /// A client over the browser's `fetch`.
    pub fn new(config: ClientConfig) -> TokenClient {
        Self::with_transport(Rc::new(FetchTransport), config)
    }

    /// A client over any [`Transport`] (tests use a fake server).
    pub fn with_transport(transport: Rc<dyn Transport>, config: ClientConfig) -> TokenClient {
        TokenClient {
            core: Rc::new(Core::new(transport, config)),
        }
    }

    /// Joins the other tabs, starts watching the window and the clock, and restores the
    /// session through the refresh cookie — or, if a sign-out was still waiting for the server
    /// when the page was left, resumes that instead (see [`crate::sign_out`]).
    pub fn start(&self) {
        let core = &self.core;
        core.join_tabs();
        core.listen_to_window();
        core.watch_for_wake();
        if let Some(scope) = core.remembered_sign_out() {
            core.store
                .end(None, "a sign-out was waiting for the server; resuming it");
            core.store.set_pending_sign_out(Some(scope));
            let resumed = core.clone().confirm_sign_out(scope, None);
            wasm_bindgen_futures::spawn_local(resumed);
        } else {
            core.refresh_in_background(RefreshReason::Restore);
        }
    }

    /// The auth state, as signals.
    pub fn store(&self) -> AuthStore {
        self.core.store
    }

    /// The handle for Bearer calls (401 → refresh → one retry).
    pub fn api(&self) -> ApiClient {
        ApiClient {
            core: self.core.clone(),
        }
    }

    /// The handle for sign-in, registration and sign-out.
    pub fn auth(&self) -> AuthEndpoints {
        AuthEndpoints {
            core: self.core.clone(),
        }
    }

    /// Refreshes now (joining a refresh that is already running).
    pub fn refresh(&self) -> impl Future<Output = RefreshOutcome> {
        self.core.refresh(RefreshReason::Proactive)
    }

    /// "Stay signed in": refreshes now, which moves the session's idle deadline (every tab
    /// hears the new token and drops its warning).
    pub fn stay_signed_in(&self) -> impl Future<Output = RefreshOutcome> {
        self.core.refresh(RefreshReason::Proactive)
    }

    /// Whether a refresh is running (or settling its broadcast) right now.
    pub fn is_refreshing(&self) -> bool {
        self.core.inflight.borrow().is_some()
    }

    /// Re-checks the token (or the server, if it was unavailable) now, as on tab focus.
    pub fn check_now(&self) {
        self.core.check_now();
    }

    /// Probes scheduled in the current outage (0 when the server is fine).
    pub fn probe_attempts(&self) -> u32 {
        self.core.probe.attempts()
    }

    /// Stops every timer and event handler and leaves the tab channel. Idempotent; the
    /// client does nothing afterwards.
    pub fn shutdown(&self) {
        self.core.stop();
    }
}
