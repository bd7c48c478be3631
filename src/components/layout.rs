//! Header (navigation, user, sign-out) and the status banners around every page.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::app::{use_client, use_session};

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let session = use_session();
    let client = use_client();
    let sign_out = move |_| {
        let c = client.get_value();
        leptos::task::spawn_local(async move { c.sign_out(false).await });
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">"tokenpair"</a>
            <Show when=move || session.signed_in() == Some(true)>
                <nav aria-label="Main">
                    <A href="/">"Dashboard"</A>
                    <A href="/sessions">"Sessions"</A>
                    <A href="/token">"Token inspector"</A>
                </nav>
                <span class="who" data-testid="whoami">
                    {move || session.user().map(|u| u.username).unwrap_or_default()}
                </span>
                <button class="secondary" data-testid="sign-out" on:click=sign_out>"Sign out"</button>
            </Show>
        </header>
        <Show when=move || session.unreachable()>
            <div class="banner warn" role="alert" data-testid="unreachable">
                "Can't reach the server — retrying. You are still signed in."
            </div>
        </Show>
        <main>{children()}</main>
        <footer>
            "Access token in memory only · refresh token in an HttpOnly cookie · "
            <a href="https://datatracker.ietf.org/doc/html/rfc9700" rel="noreferrer">"RFC 9700"</a>
        </footer>
    }
}
