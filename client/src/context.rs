//! Leptos glue: put one [`TokenClient`] in the context and reach it from any component.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tokenpair_client::{provide_auth, use_auth, ClientConfig, TokenpairProtocol};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     provide_auth(TokenpairProtocol::new(), ClientConfig::new("my-app")); // starts the restore
//!     view! { <Who/> }
//! }
//!
//! #[component]
//! fn Who() -> impl IntoView {
//!     let auth = use_auth::<TokenpairProtocol>();
//!     move || match auth.store().user() {
//!         Some(user) => format!("Signed in as {}", user.username),
//!         None => "Signed out".to_owned(),
//!     }
//! }
//! ```
//! A route guard for leptos_router:
//! `<ProtectedRoute condition=move || auth.route_condition() redirect_path=|| login_redirect("/login") …/>`
//! (`None` while restoring renders the fallback; `Some(false)` redirects).

use std::rc::Rc;

use leptos::prelude::*;

use crate::api::ApiClient;
use crate::auth::AuthEndpoints;
use crate::client::TokenClient;
use crate::config::ClientConfig;
use crate::events::AuthEvent;
use crate::http::{FetchTransport, Transport};
use crate::protocol::{Protocol, TokenpairProtocol};
use crate::store::AuthStore;

/// The client in a Leptos context: `Copy`, so closures can capture it.
pub struct Auth<P: Protocol = TokenpairProtocol> {
    client: StoredValue<TokenClient<P>, LocalStorage>,
    store: AuthStore<P::User>,
    /// `store.signed_in()`, memoised: it changes on sign-in and sign-out only, not with every
    /// refreshed token (a guard re-rendering on each refresh would rebuild the whole page).
    signed_in: Memo<Option<bool>>,
}

impl<P: Protocol> Clone for Auth<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: Protocol> Copy for Auth<P> {}

impl<P: Protocol> Auth<P> {
    /// The auth state, as signals.
    pub fn store(&self) -> AuthStore<P::User> {
        self.store
    }

    /// The Bearer client (401 → refresh → one retry).
    pub fn api(&self) -> ApiClient<P> {
        self.client.with_value(TokenClient::api)
    }

    /// Sign-in, sign-out, adopting a session.
    pub fn endpoints(&self) -> AuthEndpoints<P> {
        self.client.with_value(TokenClient::auth)
    }

    /// The whole client.
    pub fn client(&self) -> TokenClient<P> {
        self.client.get_value()
    }

    /// For a route guard's `condition`: `None` while restoring, then whether someone is signed
    /// in. Memoised, so a refreshed token does not re-render the guarded view.
    pub fn route_condition(&self) -> Option<bool> {
        self.signed_in.try_get().flatten()
    }

    /// The events as a signal: the latest one with its sequence number (1, 2, …), set after
    /// the callbacks ran. Lives until the current owner (the component) is cleaned up.
    pub fn events(&self) -> ReadSignal<Option<(u64, AuthEvent<P::User>)>> {
        let signal = RwSignal::new(None);
        let count = std::cell::Cell::new(0u64);
        self.on_event(move |event| {
            count.set(count.get() + 1);
            let _ = signal.try_set(Some((count.get(), event.clone())));
        });
        signal.read_only()
    }

    /// Calls `listener` with every [`AuthEvent`] until the current owner (the component) is
    /// cleaned up. Listeners run after the cross-tab lock is released and may call the client.
    pub fn on_event(&self, listener: impl Fn(&AuthEvent<P::User>) + 'static) {
        let Some(id) = self.client.try_with_value(|c| c.on_event(listener)) else {
            return;
        };
        let client = self.client;
        on_cleanup(move || {
            client.try_with_value(|c| c.remove_listener(id));
        });
    }
}

/// Creates the client over `fetch`, starts it, provides it as context, and shuts it down
/// when the owner is cleaned up.
pub fn provide_auth<P: Protocol>(protocol: P, config: ClientConfig) -> Auth<P> {
    provide_auth_with(protocol, config, Rc::new(FetchTransport))
}

/// [`provide_auth`] over any transport.
pub fn provide_auth_with<P: Protocol>(
    protocol: P,
    config: ClientConfig,
    transport: Rc<dyn Transport>,
) -> Auth<P> {
    let client = TokenClient::with_transport(protocol, config, transport);
    let store = client.store();
    let auth = Auth {
        store,
        client: StoredValue::new_local(client.clone()),
        signed_in: Memo::new(move |_| store.signed_in()),
    };
    provide_context(auth);
    client.start();
    let stored = auth.client;
    on_cleanup(move || {
        stored.try_with_value(TokenClient::shutdown);
    });
    auth
}

/// The [`Auth`] an ancestor provided. Panics if none did.
pub fn use_auth<P: Protocol>() -> Auth<P> {
    // Not `expect_context`: its message formats the type name and caller with `Debug`, whose
    // escaping code would ship in every app's wasm only to describe this mistake.
    use_context::<Auth<P>>().expect("use_auth: no Auth in the context (call provide_auth first)")
}
