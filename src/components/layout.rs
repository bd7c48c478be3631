//! Header (navigation, user, sign-out) and the status banners around every page.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::app::{use_client, use_session};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let session = use_session();
    let client = use_client();
    let sign_out = move |_| {
        let c = client.get_value();
        leptos::task::spawn_local(async move { c.sign_out(false).await });
    };
    // Plain links: the router handles same-origin clicks on any <a> client-side.
    let here = use_location().pathname;
    let current = move |path: &'static str| move || (here.get() == path).then_some("page");
    view! {
        <header class="topbar">
            <a class="brand" href="/">"tokenpair"</a>
            {move || (session.signed_in() == Some(true)).then(|| view! {
                <nav aria-label="Main">
                    <a href="/" aria-current=current("/")>"Dashboard"</a>
                    <a href="/sessions" aria-current=current("/sessions")>"Sessions"</a>
                    <a href="/token" aria-current=current("/token")>"Token inspector"</a>
                </nav>
                <span class="who" data-testid="whoami">
                    {move || session.user().map(|u| u.username).unwrap_or_default()}
                </span>
                <button class="secondary" data-testid="sign-out" on:click=sign_out>"Sign out"</button>
            })}
        </header>
        {move || session.unreachable().then(|| view! {
            <div class="banner warn" role="alert" data-testid="unreachable">
                "Can't reach the server — retrying. You are still signed in."
            </div>
        })}
        <main>{children()}</main>
        <footer>
            "Access token in memory only · refresh token in an HttpOnly cookie · "
            <a href="https://datatracker.ietf.org/doc/html/rfc9700" rel="noreferrer">"RFC 9700"</a>
        </footer>
    }
}
