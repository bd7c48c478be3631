//! Header (navigation, user, sign-out) and the status banner around every page.

use leptos::prelude::*;
use tokenpair_client::SignOutScope;

use crate::context::use_auth;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let auth = use_auth();
    let store = auth.store();
    let sign_out = move |_| {
        leptos::task::spawn_local(auth.endpoints().sign_out(SignOutScope::ThisDevice));
    };
    // Plain links: the router handles same-origin clicks on any <a> client-side.
    let here = crate::router::use_location();
    let current = move |path: &'static str| (here.path() == path).then_some("page");
    // A transient problem (no answer, timeout, 429, 5xx…): the session is kept and retried.
    let banner = move || {
        store.problem().map(|problem| {
            let kept = if store.signed_in() == Some(true) {
                " You are still signed in."
            } else {
                ""
            };
            view! {
                <div class="banner warn" role="alert" data-testid="unreachable">
                    {problem.message()}{kept}
                </div>
            }
        })
    };
    // The skip link moves the focus itself: the router would otherwise treat `#main` as a
    // navigation.
    let skip = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        if let Some(main) = document().get_element_by_id("main") {
            if let Ok(main) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(main) {
                let _ = main.focus();
            }
        }
    };
    view! {
        <a class="skip-link" href="#main" on:click=skip>"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">"tokenpair"</a>
            {move || (store.signed_in() == Some(true)).then(|| view! {
                <nav aria-label="Main">
                    <a href="/" aria-current=move || current("/")>"Dashboard"</a>
                    <a href="/sessions" aria-current=move || current("/sessions")>"Sessions"</a>
                    <a href="/token" aria-current=move || current("/token")>"Token inspector"</a>
                    <a href="/activity" aria-current=move || current("/activity")>"Security activity"</a>
                    <a href="/account" aria-current=move || current("/account")>"Account"</a>
                </nav>
                <span class="who" data-testid="whoami">
                    {move || store.user().map(|u| u.username).unwrap_or_default()}
                </span>
                <button class="secondary" data-testid="sign-out" on:click=sign_out>"Sign out"</button>
            }).into_any()}
        </header>
        {move || banner().into_any()}
        <main id="main" tabindex="-1">{children()}</main>
        <crate::components::session_ending::SessionEndingDialog/>
        <crate::components::reauthenticate::ReauthenticateDialog/>
        <footer>
            "Access token in memory only · refresh token in an HttpOnly cookie · "
            <a href="https://datatracker.ietf.org/doc/html/rfc9700" rel="noreferrer">"RFC 9700"</a>
        </footer>
    }
}
