//! The app shell: contexts, start-up (silent restore), routes and their guards.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::{ProtectedRoute, Route, Router, Routes};
use leptos_router::path;

use crate::client::{Client, FetchTransport, Settings, Transport};
use crate::components::layout::Layout;
use crate::pages::{
    dashboard::Dashboard, login::Login, login::Register, sessions::Sessions, token::TokenInspector,
};
use crate::session::{now_ms, Session};

/// The client, shared by every view (it is not `Send`, so it lives in a local `StoredValue`).
pub type ClientHandle = StoredValue<Client, LocalStorage>;

/// The client handle: `Copy + Send`, so view closures can capture it; `.get_value()` inside.
pub fn use_client() -> ClientHandle {
    expect_context::<ClientHandle>()
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// A clock for countdowns: `performance.now()` milliseconds, updated every half second.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<f64>);

pub fn use_clock() -> Clock {
    expect_context::<Clock>()
}

/// `/login?next=<path the user wanted>` for a guard's redirect.
fn login_redirect() -> String {
    let here = window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".into());
    format!(
        "/login?next={}",
        String::from(js_sys::encode_uri_component(&here))
    )
}

/// The app as the browser runs it: `fetch` to the same origin.
#[component]
pub fn App() -> impl IntoView {
    app_with(Rc::new(FetchTransport), Settings::default())
}

/// The whole app over any [`Transport`] (component tests mount it over a fake server).
pub fn app_with(transport: Rc<dyn Transport>, settings: Settings) -> impl IntoView {
    let session = Session::new();
    let client = Client::new(transport, session, settings);
    provide_context(session);
    provide_context::<ClientHandle>(StoredValue::new_local(client.clone()));

    let clock = Clock(RwSignal::new(now_ms()));
    provide_context(clock);
    if let Ok(handle) = set_interval_with_handle(
        move || clock.0.set(now_ms()),
        std::time::Duration::from_millis(500),
    ) {
        on_cleanup(move || handle.clear());
    }

    // Other tabs' sign-in, tokens and sign-out apply here; timers may have slept in the
    // background, so check again when the tab comes back, gets focus, or the network returns.
    client.join_other_tabs();
    for event in ["visibilitychange", "focus", "online"] {
        let c = client.clone();
        let handle = window_event_listener_untyped(event, move |_| c.check_now());
        on_cleanup(move || handle.remove());
    }

    // Silent restore through the HttpOnly cookie: until it answers, guards show a neutral
    // loading state (no flash of the login page).
    leptos::task::spawn_local(async move {
        client.restore().await;
    });

    let signed_in = move || session.signed_in();
    let restoring = || view! { <p class="loading" role="status">"Restoring your session…"</p> };
    view! {
        <Router>
            <Layout>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=path!("/login") view=Login/>
                    <Route path=path!("/register") view=Register/>
                    <ProtectedRoute path=path!("/") view=Dashboard condition=signed_in redirect_path=login_redirect fallback=restoring/>
                    <ProtectedRoute path=path!("/sessions") view=Sessions condition=signed_in redirect_path=login_redirect fallback=restoring/>
                    <ProtectedRoute path=path!("/token") view=TokenInspector condition=signed_in redirect_path=login_redirect fallback=restoring/>
                </Routes>
            </Layout>
        </Router>
    }
}
