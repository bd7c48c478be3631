//! "You will be signed out in 60 s": a modal alert shown in every tab when the server session
//! is about to reach its idle timeout (or its absolute end). "Stay signed in" refreshes, which
//! moves the idle deadline; the other tabs hear the new token and close their copy.

use leptos::prelude::*;
use tokenpair_client::{SessionEnding, SignOutScope};

use crate::components::dialog::trap_tab;
use crate::context::{use_auth, use_clock};
use crate::effect::effect;

#[component]
pub fn SessionEndingDialog() -> impl IntoView {
    let auth = use_auth();
    let store = auth.store();
    let clock = use_clock();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let sign_out_button = NodeRef::<leptos::html::Button>::new();
    let stay_button = NodeRef::<leptos::html::Button>::new();

    let ending = move || {
        store
            .session_ending()
            .filter(|_| store.signed_in() == Some(true))
    };
    // At the absolute end, staying is not an option: only "Sign out now".
    let absolute = move || ending() == Some(SessionEnding::Absolute);
    effect(move |_| {
        let show = ending().is_some();
        let Some(d) = dialog.get() else { return };
        if show && !d.open() {
            let _ = d.show_modal();
            // The first choice has the focus: stay, or sign out when staying is not an option.
            let stay = stay_button.get_untracked().filter(|b| b.is_connected());
            let first = stay.or(sign_out_button.get_untracked());
            if let Some(b) = first {
                let _ = b.focus();
            }
        } else if !show && d.open() {
            d.close();
        }
    });
    let seconds = move || {
        store
            .token()
            .and_then(|t| t.session_remaining_secs(&clock.now()))
            .unwrap_or(0)
    };
    let stay = move |_| {
        let client = auth.client();
        leptos::task::spawn_local(async move {
            client.stay_signed_in().await;
        });
    };
    let sign_out = move |_| {
        leptos::task::spawn_local(auth.endpoints().sign_out(SignOutScope::ThisDevice));
    };
    // Escape does not dismiss it: the user chooses.
    let on_cancel = move |ev: leptos::ev::Event| ev.prevent_default();

    view! {
        <dialog class="confirm" role="alertdialog" aria-labelledby="ending-title" aria-describedby="ending-text"
            data-testid="session-ending" node_ref=dialog on:cancel=on_cancel
            on:keydown=move |ev| trap_tab(dialog, &ev)>
            <h2 id="ending-title">
                {move || String::from(if absolute() { "Your session is ending" } else { "Are you still there?" })}
            </h2>
            <p id="ending-text" data-testid="session-ending-text">
                {move || {
                    let why = if absolute() {
                        ": sessions last at most their full lifetime. Sign in again to continue."
                    } else {
                        " because this session has been idle."
                    };
                    format!("You will be signed out in {} s{why}", seconds())
                }}
            </p>
            <div class="actions">
                <button class="secondary" data-testid="sign-out-now" on:click=sign_out node_ref=sign_out_button>
                    {move || String::from(if absolute() { "Sign out now" } else { "Sign out" })}
                </button>
                {move || (!absolute()).then(|| view! {
                    <button data-testid="stay-signed-in" on:click=stay node_ref=stay_button>"Stay signed in"</button>
                }).into_any()}
            </div>
        </dialog>
    }
}
