//! [`TokenClient`]: one per tab. It owns the auth state and hands out the two call handles.
//!
//! ```no_run
//! use tokenpair_client::{ClientConfig, TokenClient, TokenpairProtocol};
//! let client = TokenClient::new(TokenpairProtocol::new(), ClientConfig::new("my-app"));
//! client.start(); // restore the session through the refresh cookie
//! let api = client.api(); // Bearer calls: api.get_json::<T>("/api/me")
//! let auth = client.auth(); // auth.sign_in(credentials), auth.sign_out(scope)
//! let store = client.store(); // signals: store.signed_in(), store.user(), store.problem()
//! client.on_event(|event| web_sys::console::log_1(&format!("{event:?}").into()));
//! # let _ = (api, auth, store);
//! ```
//! In a Leptos app, [`crate::provide_auth`] does this and puts it in the context.

use std::future::Future;
use std::rc::Rc;

use crate::api::ApiClient;
use crate::auth::AuthEndpoints;
use crate::config::ClientConfig;
use crate::core::Core;
use crate::events::{AuthEvent, ListenerId};
use crate::http::{FetchTransport, Transport};
use crate::protocol::{Protocol, TokenpairProtocol};
use crate::single_flight::{RefreshOutcome, RefreshReason};
use crate::store::AuthStore;

/// The token client of one tab. Cheap to clone (all clones share the state); dropping the
/// last clone, or [`TokenClient::shutdown`], stops its timers and closes its channel.
pub struct TokenClient<P: Protocol = TokenpairProtocol> {
    core: Rc<Core<P>>,
}

impl<P: Protocol> Clone for TokenClient<P> {
    fn clone(&self) -> Self {
        TokenClient {
            core: self.core.clone(),
        }
    }
}

impl<P: Protocol> TokenClient<P> {
    /// A client for `protocol`'s backend over the browser's `fetch`.
    pub fn new(protocol: P, config: ClientConfig) -> Self {
        Self::with_transport(protocol, config, Rc::new(FetchTransport))
    }

    /// A client over any [`Transport`] (tests use a fake server).
    pub fn with_transport(protocol: P, config: ClientConfig, transport: Rc<dyn Transport>) -> Self {
        TokenClient {
            core: Rc::new(Core::new(protocol, transport, config)),
        }
    }

    /// Joins the other tabs, starts watching the window and the clock, and restores the
    /// session through the refresh cookie — or, if a sign-out was still waiting for the server
    /// when the page was left, resumes that instead (see [`crate::sign_out`]). Idempotent: a
    /// second call (a framework mounting twice) does nothing.
    pub fn start(&self) {
        let core = &self.core;
        if !core.mark_started() {
            return;
        }
        core.join_tabs();
        core.listen_to_window();
        core.watch_for_wake();
        if let Some(scope) = core.pending.remembered() {
            core.state
                .end(None, "a sign-out was waiting for the server; resuming it");
            core.state.set_pending_sign_out(Some(scope));
            let resumed = core.clone().confirm_sign_out(scope, None, None);
            wasm_bindgen_futures::spawn_local(resumed);
        } else {
            core.refresh_in_background(RefreshReason::Restore);
        }
    }

    /// The auth state, as signals.
    pub fn store(&self) -> AuthStore<P::User> {
        self.core.state.store
    }

    /// The handle for Bearer calls (401 → refresh → one retry).
    pub fn api(&self) -> ApiClient<P> {
        ApiClient {
            core: self.core.clone(),
        }
    }

    /// The handle for sign-in, sign-out and adopting a session.
    pub fn auth(&self) -> AuthEndpoints<P> {
        AuthEndpoints {
            core: self.core.clone(),
        }
    }

    /// The protocol this client speaks.
    pub fn protocol(&self) -> &P {
        &self.core.protocol
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
        self.core.refresh_slot.is_running()
    }

    /// Re-checks the token (or the server, if it was unavailable) now, as on tab focus.
    pub fn check_now(&self) {
        self.core.check_now();
    }

    /// Probes scheduled in the current outage (0 when the server is fine).
    pub fn probe_attempts(&self) -> u32 {
        self.core.probe.attempts()
    }

    /// Whether the wake-from-sleep detector is running (it runs from `start` to `shutdown`).
    pub fn is_watching_for_wake(&self) -> bool {
        self.core.wake.is_running()
    }

    /// Calls `listener` with every [`AuthEvent`], after the cross-tab lock is released and
    /// outside the client's own call stack (so it may call the client).
    pub fn on_event(&self, listener: impl Fn(&AuthEvent<P::User>) + 'static) -> ListenerId {
        self.core.events.listen(listener)
    }

    /// Stops calling a listener.
    pub fn remove_listener(&self, id: ListenerId) {
        self.core.events.unlisten(id);
    }

    /// Stops every timer and event handler and leaves the tab channel. Idempotent; the
    /// client does nothing afterwards.
    pub fn shutdown(&self) {
        self.core.stop();
    }
}
