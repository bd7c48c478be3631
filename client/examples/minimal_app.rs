//! docs/client.md's "Use the client in your own Leptos app" example, compiled by `make lint`
//! (clippy builds examples) and kept identical to the guide by `tests/readme_example.rs`.

use leptos::prelude::*;
use leptos_router::{components::*, path};
use serde::Deserialize;
use tokenpair_client::{
    login_redirect, provide_auth, safe_return_path, use_auth, AuthEvent, ClientConfig,
    SignOutScope, TokenpairProtocol, TokenpairSignIn,
};

/// What `GET /api/me` answers (any serde type works).
#[derive(Deserialize)]
struct Me {
    username: String,
}

#[component]
fn App() -> impl IntoView {
    // One client per tab: restores the session through the HttpOnly cookie, joins the other
    // tabs. The app id names its lock, channel and storage key ("my-app:refresh", …).
    let auth = provide_auth(TokenpairProtocol::new(), ClientConfig::new("my-app"));
    // Typed events, delivered after the cross-tab lock is released: a listener may call the client.
    auth.on_event(|event| {
        if let AuthEvent::SignedOut { reason } = event {
            leptos::logging::log!("signed out: {reason:?}"); // e.g. clear the app's caches here
        }
    });
    view! {
        <Router>
            // A transient problem (server unreachable, 429, timeout…): the session is kept and retried.
            {move || auth.store().problem().map(|p| view! { <p role="alert">{p.message()}</p> })}
            <Routes fallback=|| "Not found">
                <Route path=path!("/login") view=Login/>
                // `None` while restoring renders the fallback: no flash of the login page.
                <ProtectedRoute path=path!("/") view=Home
                    condition=move || auth.route_condition()
                    redirect_path=|| login_redirect("/login")
                    fallback=|| "Restoring your session…"/>
            </Routes>
        </Router>
    }
}

#[component]
fn Home() -> impl IntoView {
    let auth = use_auth::<TokenpairProtocol>();
    let me = RwSignal::new(None::<String>);
    // Bearer call: on a 401 the client refreshes once (shared by concurrent calls) and retries once.
    leptos::task::spawn_local(async move {
        let answer = auth.api().get_json::<Me>("/api/me").await;
        me.set(Some(
            answer.map(|m| m.username).unwrap_or_else(|e| e.to_string()),
        ));
    });
    let sign_out =
        move |_| leptos::task::spawn_local(auth.endpoints().sign_out(SignOutScope::ThisDevice));
    view! { <p>{move || me.get()}</p> <button on:click=sign_out>"Sign out"</button> }
}

#[component]
fn Login() -> impl IntoView {
    let auth = use_auth::<TokenpairProtocol>();
    let navigate = leptos_router::hooks::use_navigate();
    let next = leptos_router::hooks::use_query_map();
    // Signed in (here or in another tab): go back where the user wanted — same origin only.
    Effect::new(move |_| {
        if auth.store().signed_in() == Some(true) {
            navigate(
                &safe_return_path(next.get_untracked().get("next").as_deref()),
                Default::default(),
            );
        }
    });
    let submit = move |_| {
        let credentials = TokenpairSignIn::password("user1", "password1");
        leptos::task::spawn_local(async move {
            let _ = auth.endpoints().sign_in(credentials).await;
        });
    };
    view! {
        {move || auth.store().notice().map(|n| view! { <p role="status">{n.message()}</p> })}
        <button on:click=submit>"Sign in"</button>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
