//! Signing in with a passkey, on the sign-in page: the "Sign in with a passkey" button (the
//! browser's passkey prompt) and the username field's autofill (conditional mediation: the
//! field is `autocomplete="username webauthn"`). Either ends in the same sign-in as a password
//! (`POST /api/auth/passkey`: a new session, its cookie, DPoP binding), through the client.

use leptos::prelude::*;
use tokenpair_client::passkey::{self, PasskeyError};
use tokenpair_client::{ClientError, TokenpairSignIn};

use crate::context::use_auth;

#[component]
pub fn PasskeySignIn(error: RwSignal<Option<String>>) -> impl IntoView {
    let auth = use_auth();
    let busy = RwSignal::new(false);
    let sign_in_with = move |autofill: bool| {
        let endpoints = auth.endpoints();
        if !autofill {
            busy.set(true);
            error.set(None);
        }
        leptos::task::spawn_local(async move {
            let result = match endpoints.passkey_assertion(autofill).await {
                Ok(assertion) => endpoints.sign_in(TokenpairSignIn::passkey(assertion)).await,
                Err(e) => Err(e),
            };
            busy.try_set(false);
            match result {
                // Closed, or replaced by another ceremony (the button cancels the autofill).
                Ok(()) | Err(ClientError::Passkey(PasskeyError::Cancelled)) => {}
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                }
            }
        });
    };
    if passkey::supported() {
        // The autofill waits (for as long as the form is shown) until a passkey is picked.
        leptos::task::spawn_local(async move {
            if passkey::autofill_available().await && !busy.get_untracked() {
                sign_in_with(true);
            }
        });
        on_cleanup(passkey::abort_autofill);
    }
    passkey::supported()
        .then(|| {
            view! {
                <button type="button" class="secondary" data-testid="passkey-sign-in"
                    disabled=move || busy.get().then_some("") on:click=move |_| sign_in_with(false)>
                    "Sign in with a passkey"
                </button>
            }
        })
        .into_any()
}
