//! The app shell: the token client, the routes and their guards.

use std::rc::Rc;

use leptos::prelude::*;
use tokenpair_client::{
    login_redirect, provide_auth_with, ClientConfig, FetchTransport, TokenpairProtocol, Transport,
};

use crate::components::layout::Layout;
use crate::components::page_heading::PageHeading;
use crate::context::provide_clock;
use crate::effect::effect;
use crate::pages::{
    account::Account, activity::Activity, dashboard::Dashboard, login::Login, login::Register,
    sessions::Sessions, token::TokenInspector,
};
use crate::router::{provide_router, History, Route};

/// The app as the browser runs it: `fetch` to the same origin, the client's defaults under
/// the app id `tokenpair` (lock `tokenpair:refresh`, channel `tokenpair:auth`).
#[component]
pub fn App() -> impl IntoView {
    // DPoP on: the server binds the session to this browser's key (see the client's `dpop`).
    let config = ClientConfig::builder("tokenpair").dpop(true).build();
    app_with(Rc::new(FetchTransport), config)
}

/// The whole app over any transport and client configuration (component tests mount it
/// over a fake server).
pub fn app_with(transport: Rc<dyn Transport>, config: ClientConfig) -> impl IntoView {
    // Creates the client, restores the session through the HttpOnly cookie, joins the tabs.
    let auth = provide_auth_with(TokenpairProtocol::new(), config, transport);
    provide_clock();

    let here = provide_router();
    let route = Memo::new(move |_| Route::of(&here.path()));

    // `None` while restoring: the guard shows a neutral state (no flash of the login page).
    // `route_condition` is memoised by the client: it changes on sign-in and sign-out only, so
    // a refreshed token does not rebuild the current view (its state, its focus).
    let signed_in = move || auth.route_condition();
    // The guard: a protected view for a signed-out visitor goes to the login page, which sends
    // them back here (`?next=`) once signed in.
    effect(move |_| {
        if route.get().protected() && signed_in() == Some(false) {
            here.navigate(&login_redirect("/login"), History::Replace);
        }
    });
    let view = move || {
        let route = route.get();
        if route.protected() {
            match signed_in() {
                None => return view! { <p class="loading" role="status" data-testid="restoring">"Restoring your session…"</p> }.into_any(),
                Some(false) => return ().into_any(),
                Some(true) => {}
            }
        }
        match route {
            Route::Login => view! { <Login/> }.into_any(),
            Route::Register => view! { <Register/> }.into_any(),
            Route::Dashboard => view! { <Dashboard/> }.into_any(),
            Route::Sessions => view! { <Sessions/> }.into_any(),
            Route::Token => view! { <TokenInspector/> }.into_any(),
            Route::Activity => view! { <Activity/> }.into_any(),
            Route::Account => view! { <Account/> }.into_any(),
            Route::NotFound => view! { <NotFound/> }.into_any(),
        }
    };
    view! { <Layout>{move || view()}</Layout> }
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
