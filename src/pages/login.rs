//! `/login` and `/register`: one form, two endpoints. After sign-in the user goes back to the
//! page they asked for (`?next=`, same-origin paths only).

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use tokenpair_api::Credentials;

use crate::app::{use_client, use_session};

/// Only same-origin paths: `/x` yes; `//evil.example`, `/\evil`, `https://…` no.
pub fn safe_next(next: Option<String>) -> String {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\"))
        .filter(|n| !n.starts_with("/login") && !n.starts_with("/register"))
        .unwrap_or_else(|| "/".into())
}

#[component]
pub fn Login() -> impl IntoView {
    view! { <AuthForm register=false/> }
}

#[component]
pub fn Register() -> impl IntoView {
    view! { <AuthForm register=true/> }
}

#[component]
fn AuthForm(register: bool) -> impl IntoView {
    let session = use_session();
    let client = use_client();
    let query = use_query_map();
    let navigate = use_navigate();

    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = Action::new_local(move |creds: &Credentials| {
        let (client, creds) = (client.get_value(), creds.clone());
        async move { client.sign_in(&creds, register).await }
    });

    // Signed in (here, or in another tab): go where the user wanted to go.
    Effect::new(move |_| {
        if session.signed_in() == Some(true) {
            let next = safe_next(query.with_untracked(|q| q.get("next")));
            navigate(&next, Default::default());
        }
    });

    let error = move || {
        submit
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| e.to_string())
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        session.clear_notice();
        submit.dispatch(Credentials {
            username: username.get_untracked(),
            password: password.get_untracked(),
        });
    };
    let (title, button) = if register {
        ("Create an account", "Create account")
    } else {
        ("Sign in", "Sign in")
    };
    let other = move || {
        if register {
            view! { <p>"Have an account? " <A href="/login">"Sign in"</A></p> }.into_any()
        } else {
            view! { <p>"New here? " <A href="/register">"Create an account"</A></p> }.into_any()
        }
    };

    view! {
        <Show
            when=move || session.signed_in() == Some(false)
            fallback=|| view! { <p class="loading" role="status">"Checking your session…"</p> }
        >
            <section class="card narrow">
                <h1>{title}</h1>
                {move || session.notice().map(|n| view! { <p class="banner info" role="status" data-testid="notice">{n}</p> })}
                <form on:submit=on_submit novalidate>
                    <label for="username">"Username"</label>
                    <input id="username" name="username" autocomplete="username" required
                        bind:value=username/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" required
                        autocomplete=if register { "new-password" } else { "current-password" }
                        bind:value=password/>
                    {register.then(|| view! { <p class="hint">"3–32 characters: letters, digits, _ . - · password at least 8 characters"</p> })}
                    {move || error().map(|e| view! { <p class="banner error" role="alert" data-testid="form-error">{e}</p> })}
                    <button type="submit" data-testid="submit" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { "Please wait…" } else { button }}
                    </button>
                </form>
                {other()}
                {(!register).then(|| view! { <p class="hint">"Demo accounts: user1 / password1 · user2 / password2"</p> })}
            </section>
        </Show>
    }
}
