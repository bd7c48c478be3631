//! `/login` and `/register`: one form, two endpoints. After sign-in the user goes back to the
//! page they asked for (`?next=`, same-origin paths only).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use tokenpair_api::Credentials;
use tokenpair_client::{safe_return_path, SignOutScope};

use crate::context::use_auth;

/// Where to go after sign-in: `next` resolved against this page's origin by the URL parser
/// (so `/%09/evil.example` cannot leave it), never back to the sign-in pages themselves.
pub fn safe_next(next: Option<String>) -> String {
    let path = safe_return_path(next.as_deref());
    if path.starts_with("/login") || path.starts_with("/register") {
        "/".into()
    } else {
        path
    }
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
    let auth = use_auth();
    let store = auth.store();
    let query = use_query_map();
    let navigate = use_navigate();

    // The inputs are read when the form is submitted; no signal per keystroke.
    let username = NodeRef::<leptos::html::Input>::new();
    let password = NodeRef::<leptos::html::Input>::new();
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    // Signed in (here, or in another tab): go where the user wanted to go.
    Effect::new(move |_| {
        if store.signed_in() == Some(true) {
            let next = safe_next(query.with_untracked(|q| q.get("next")));
            navigate(&next, Default::default());
        }
    });

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let value = |input: NodeRef<leptos::html::Input>| {
            input.get_untracked().map(|i| i.value()).unwrap_or_default()
        };
        let credentials = Credentials {
            username: value(username),
            password: value(password),
        };
        store.clear_notice();
        pending.set(true);
        let endpoints = auth.endpoints();
        leptos::task::spawn_local(async move {
            let result = if register {
                endpoints.register(&credentials).await
            } else {
                endpoints.sign_in(&credentials).await
            };
            error.try_set(result.err().map(|e| e.to_string()));
            pending.try_set(false);
        });
    };
    let (title, button) = if register {
        ("Create an account", "Create account")
    } else {
        ("Sign in", "Sign in")
    };
    let (other_text, other_href, other_link) = if register {
        ("Have an account? ", "/login", "Sign in")
    } else {
        ("New here? ", "/register", "Create an account")
    };

    let form = move || {
        view! {
            <section class="card narrow">
                <h1>{title}</h1>
                {move || store.pending_sign_out().map(|scope| view! {
                    <p class="banner warn" role="status" data-testid="sign-out-pending">
                        {match scope {
                            SignOutScope::ThisDevice => "Signing you out — waiting for the server to confirm. ",
                            SignOutScope::Everywhere => "Signing you out everywhere — waiting for the server to confirm. ",
                        }}
                        "Until it does, the session may still be active on the server; this page keeps trying, even after a reload."
                    </p>
                })}
                {move || store.notice().map(|n| view! { <p class="banner info" role="status" data-testid="notice">{n.message()}</p> })}
                <form on:submit=on_submit novalidate>
                    <label for="username">"Username"</label>
                    <input id="username" name="username" autocomplete="username" required node_ref=username/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" required
                        autocomplete=if register { "new-password" } else { "current-password" }
                        node_ref=password/>
                    {register.then(|| view! { <p class="hint">"3–32 characters: letters, digits, _ . - · password at least 8 characters"</p> })}
                    {move || error.get().map(|e| view! { <p class="banner error" role="alert" data-testid="form-error">{e}</p> })}
                    <button type="submit" data-testid="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Please wait…" } else { button }}
                    </button>
                </form>
                <p>{other_text} <a href=other_href>{other_link}</a></p>
                {(!register).then(|| view! { <p class="hint">"Demo accounts: user1 / password1 · user2 / password2"</p> })}
            </section>
        }
    };
    // Only a signed-out visitor sees the form: while the session is being restored (or once
    // signed in, until the redirect) a neutral line stands in.
    move || {
        if store.signed_in() == Some(false) {
            form().into_any()
        } else {
            view! { <p class="loading" role="status" data-testid="restoring">"Checking your session…"</p> }.into_any()
        }
    }
}
