//! The app shell: the token client, the routes and their guards.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::{ProtectedRoute, Route, Router, Routes};
use leptos_router::path;
use tokenpair_client::{
    login_redirect, provide_auth_with, ClientConfig, FetchTransport, Transport,
};

use crate::components::layout::Layout;
use crate::components::page_heading::PageHeading;
use crate::context::provide_clock;
use crate::pages::{
    dashboard::Dashboard, login::Login, login::Register, sessions::Sessions, token::TokenInspector,
};

/// The app as the browser runs it: `fetch` to the same origin, default client settings.
#[component]
pub fn App() -> impl IntoView {
    app_with(Rc::new(FetchTransport), ClientConfig::default())
}

/// The whole app over any transport and client configuration (component tests mount it
/// over a fake server).
pub fn app_with(transport: Rc<dyn Transport>, config: ClientConfig) -> impl IntoView {
    // Creates the client, restores the session through the HttpOnly cookie, joins the tabs.
    let auth = provide_auth_with(transport, config);
    provide_clock();

    // `None` while restoring: the guard shows a neutral state (no flash of the login page).
    // `route_condition` is memoised by the client: it changes on sign-in and sign-out only, so
    // a refreshed token does not rebuild the current view (its state, its focus).
    let signed_in = move || auth.route_condition();
    let to_login = || login_redirect("/login");
    let restoring = || view! { <p class="loading" role="status" data-testid="restoring">"Restoring your session…"</p> };
    view! {
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=Login/>
                    <Route path=path!("/register") view=Register/>
                    <ProtectedRoute path=path!("/") view=Dashboard condition=signed_in redirect_path=to_login fallback=restoring/>
                    <ProtectedRoute path=path!("/sessions") view=Sessions condition=signed_in redirect_path=to_login fallback=restoring/>
                    <ProtectedRoute path=path!("/token") view=TokenInspector condition=signed_in redirect_path=to_login fallback=restoring/>
                </Routes>
            </Layout>
        </Router>
    }
}

/// Any other path: a real page, with a heading and a way home.
#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="card narrow" data-testid="not-found">
            <PageHeading title="Page not found"/>
            <p>"There is no page at this address."</p>
            <p><a href="/">"Go to the dashboard"</a></p>
        </section>
    }
}
