//! Leptos glue: put one [`TokenClient`] in the context and reach it from any component.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use tokenpair_client::{provide_auth, use_auth, ClientConfig};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     provide_auth(ClientConfig::default()); // starts the silent restore
//!     view! { <Who/> }
//! }
//!
//! #[component]
//! fn Who() -> impl IntoView {
//!     let auth = use_auth();
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
use crate::client::TokenClient;
use crate::config::ClientConfig;
use crate::endpoints::AuthEndpoints;
use crate::state::AuthStore;
use crate::transport::{FetchTransport, Transport};

/// The client in a Leptos context: `Copy`, so closures can capture it.
#[derive(Clone, Copy)]
pub struct Auth {
    client: StoredValue<TokenClient, LocalStorage>,
    store: AuthStore,
    /// `store.signed_in()`, memoised: it changes on sign-in and sign-out only, not with every
    /// refreshed token (a guard re-rendering on each refresh would rebuild the whole page).
    signed_in: Memo<Option<bool>>,
}

impl Auth {
    /// The auth state, as signals.
    pub fn store(&self) -> AuthStore {
        self.store
    }

    /// The Bearer client (401 → refresh → one retry).
    pub fn api(&self) -> ApiClient {
        self.client.with_value(TokenClient::api)
    }

    /// Sign-in, registration, sign-out.
    pub fn endpoints(&self) -> AuthEndpoints {
        self.client.with_value(TokenClient::auth)
    }

    /// The whole client.
    pub fn client(&self) -> TokenClient {
        self.client.get_value()
    }

    /// For leptos_router's `ProtectedRoute` `condition`: `None` while restoring, then
    /// whether someone is signed in. Memoised, so a refreshed token does not re-render the
    /// guarded view.
    pub fn route_condition(&self) -> Option<bool> {
        self.signed_in.get()
    }
}

/// Creates the client over `fetch`, starts it, provides it as context, and shuts it down
/// when the owner is cleaned up.
pub fn provide_auth(config: ClientConfig) -> Auth {
    provide_auth_with(Rc::new(FetchTransport), config)
}

/// [`provide_auth`] over any transport.
pub fn provide_auth_with(transport: Rc<dyn Transport>, config: ClientConfig) -> Auth {
    let client = TokenClient::with_transport(transport, config);
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

/// The [`Auth`] an ancestor provided. Panics (with Leptos' message) if none did.
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
