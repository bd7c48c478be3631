//! "Confirm it's you": the modal shown while a dangerous action waits for a step-up (RFC 9470,
//! the client's `AuthStore::reauthentication`). It says which action it is for, takes the
//! password (or a passkey), and the client then sends the waiting request once more; Cancel
//! (or Escape) fails it and changes nothing. The focus goes to the password field when it
//! opens and back to where it was when it closes.

use leptos::prelude::*;
use tokenpair_client::{passkey, ClientError, Method, ReauthenticationRequest, TokenpairSignIn};

use crate::components::dialog::trap_tab;
use crate::context::use_auth;
use crate::effect::effect;

/// The action a challenged request stands for, as the dialog names it.
pub fn action_of(asked: &ReauthenticationRequest) -> &'static str {
    let url = asked.url.as_str();
    match asked.method {
        Method::Post if url.starts_with("/api/auth/logout") => "sign out everywhere",
        Method::Delete if url.starts_with("/api/sessions/") => "sign out another device",
        Method::Post if url.starts_with("/api/passkeys") => "add a passkey",
        Method::Delete if url.starts_with("/api/passkeys/") => "delete a passkey",
        Method::Post if url.starts_with("/api/account/password") => "change your password",
        _ => "continue",
    }
}

#[component]
pub fn ReauthenticateDialog() -> impl IntoView {
    let auth = use_auth();
    let store = auth.store();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let input = NodeRef::<leptos::html::Input>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    let asked = move || store.reauthentication();
    effect(move |_| {
        let show = asked().is_some();
        let Some(d) = dialog.get() else { return };
        if show && !d.open() {
            opener.set_value(
                document()
                    .active_element()
                    .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()),
            );
            error.set(None);
            let _ = d.show_modal();
            if let Some(i) = input.get_untracked() {
                i.set_value("");
                let _ = i.focus();
            }
        } else if !show && d.open() {
            d.close();
            opener.with_value(|o| {
                if let Some(o) = o.as_ref().filter(|o| o.is_connected()) {
                    let _ = o.focus();
                }
            });
        }
    });

    let confirm = move |credentials: Result<TokenpairSignIn, ClientError>| {
        busy.set(true);
        error.set(None);
        let endpoints = auth.endpoints();
        leptos::task::spawn_local(async move {
            let result = match credentials {
                Ok(c) => endpoints.reauthenticate(c).await,
                Err(e) => Err(e),
            };
            busy.try_set(false);
            if let Err(e) = result {
                error.try_set(Some(match e {
                    ClientError::Api(e) if e.status == 401 => {
                        "That is not your password. Try again.".to_owned()
                    }
                    other => other.to_string(),
                }));
                if let Some(i) = input.get_untracked() {
                    i.set_value("");
                    let _ = i.focus();
                }
            }
        });
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let password = input.get_untracked().map(|i| i.value()).unwrap_or_default();
        if password.is_empty() {
            error.set(Some("Enter your password.".into()));
            return;
        }
        confirm(Ok(TokenpairSignIn::confirm_password(&password)));
    };
    let use_passkey = move |_| {
        let endpoints = auth.endpoints();
        busy.set(true);
        leptos::task::spawn_local(async move {
            let assertion = endpoints.passkey_assertion(false).await;
            confirm(assertion.map(TokenpairSignIn::passkey));
        });
    };
    let cancel = move || auth.endpoints().cancel_reauthentication();
    // Escape cancels (the dialog closes through the store, which every path goes through).
    let on_cancel = move |ev: leptos::ev::Event| {
        ev.prevent_default();
        if !busy.get_untracked() {
            cancel();
        }
    };
    // "To <action>, …", and how recent the sign-in must be when the server says.
    let text = move || {
        let asked = asked();
        let action = asked.as_ref().map(action_of).unwrap_or("continue");
        let recent = match asked.and_then(|a| a.challenge.max_age) {
            Some(s) => {
                let (n, unit) = if s < 120 {
                    (s, " seconds)")
                } else {
                    (s / 60, " minutes)")
                };
                [" (a sign-in within the last ", &n.to_string(), unit].concat()
            }
            None => String::new(),
        };
        [
            "To ",
            action,
            ", enter your password again: this action needs a recent sign-in",
            &recent,
            ".",
        ]
        .concat()
    };

    view! {
        <dialog class="confirm" aria-labelledby="reauth-title" aria-describedby="reauth-text"
            data-testid="reauth" node_ref=dialog on:cancel=on_cancel
            on:keydown=move |ev| trap_tab(dialog, &ev)>
            <h2 id="reauth-title">"Confirm it's you"</h2>
            <p id="reauth-text" data-testid="reauth-text">
                {move || text()}
            </p>
            <form on:submit=on_submit novalidate>
                <label for="reauth-password">"Password"</label>
                <input id="reauth-password" type="password" autocomplete="current-password"
                    data-testid="reauth-password" node_ref=input
                    aria-invalid=move || error.get().is_some().then_some("true")
                    aria-describedby=move || error.get().is_some().then_some("reauth-error")/>
                {move || error.get().map(|e| view! {
                    <p class="field-error" id="reauth-error" role="alert" data-testid="reauth-error">{e}</p>
                }).into_any()}
                <div class="actions">
                    <button type="button" class="secondary" data-testid="reauth-cancel"
                        disabled=move || busy.get().then_some("") on:click=move |_| cancel()>"Cancel"</button>
                    {passkey::supported().then(|| view! {
                        <button type="button" class="secondary" data-testid="reauth-passkey"
                            disabled=move || busy.get().then_some("") on:click=use_passkey>"Use a passkey"</button>
                    }).into_any()}
                    <button type="submit" data-testid="reauth-submit" disabled=move || busy.get().then_some("")>
                        {move || String::from(if busy.get() { "Checking…" } else { "Confirm" })}
                    </button>
                </div>
            </form>
        </dialog>
    }
}
