//! `/account` — how this account signs in: its passkeys ([`crate::pages::passkeys`]) and the
//! password. Changing the password is a dangerous action: it needs the current password and a
//! recent sign-in (the re-authentication dialog asks if it is older), and it ends every other
//! session — the page says how many.

use leptos::prelude::*;
use tokenpair_api::{js, paths, rules, ErrorCode, PasswordChange, PasswordChanged};
use tokenpair_client::{ClientError, Request};

use crate::components::page_heading::PageHeading;
use crate::context::use_auth;
use crate::pages::passkeys::Passkeys;

#[component]
pub fn Account() -> impl IntoView {
    view! {
        <section class="card">
            <PageHeading title="Account"/>
            <Passkeys/>
            <ChangePassword/>
        </section>
    }
}

fn value(input: NodeRef<leptos::html::Input>) -> String {
    input.get_untracked().map(|i| i.value()).unwrap_or_default()
}

#[component]
fn ChangePassword() -> impl IntoView {
    let auth = use_auth();
    let current = NodeRef::<leptos::html::Input>::new();
    let new = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let clear = move || {
        for input in [current, new] {
            if let Some(i) = input.get_untracked() {
                i.set_value("");
            }
        }
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (current_password, new_password) = (value(current), value(new));
        status.set(None);
        if current_password.is_empty() {
            error.set(Some("Enter your current password.".into()));
            return;
        }
        if let Err(why) = rules::validate_password(&new_password) {
            error.set(Some(why));
            return;
        }
        error.set(None);
        busy.set(true);
        let api = auth.api();
        let body = js::stringify(&PasswordChange {
            current_password,
            new_password,
        });
        leptos::task::spawn_local(async move {
            let answer = api
                .send(Request::post(paths::ACCOUNT_PASSWORD).json_text(body))
                .await
                .and_then(|r| {
                    js::parse::<PasswordChanged>(&r.text()).map_err(ClientError::BadResponse)
                });
            busy.try_set(false);
            match answer {
                Ok(done) => {
                    clear();
                    let n = done.other_sessions_ended;
                    status.try_set(Some(match n {
                        0 => "Password changed. No other device was signed in.".to_owned(),
                        1 => "Password changed. 1 other session was signed out.".to_owned(),
                        n => format!("Password changed. {n} other sessions were signed out."),
                    }));
                }
                Err(ClientError::Api(e)) if e.code == ErrorCode::InvalidCredentials.as_str() => {
                    error.try_set(Some("Your current password is not right.".into()));
                }
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                }
            }
        });
    };
    view! {
        <h2>"Password"</h2>
        <p class="hint">"Changing it signs out every other device; this one stays signed in."</p>
        <form on:submit=on_submit novalidate data-testid="change-password">
            <label for="current-password">"Current password"</label>
            <input id="current-password" type="password" autocomplete="current-password"
                data-testid="current-password" node_ref=current/>
            <label for="new-password">"New password"</label>
            <input id="new-password" type="password" autocomplete="new-password"
                aria-describedby="new-password-hint" data-testid="new-password" node_ref=new/>
            <p class="hint" id="new-password-hint">{rules::PASSWORD_HINT}</p>
            {move || error.get().map(|e| view! {
                <p class="banner error" role="alert" data-testid="password-error">{e}</p>
            }).into_any()}
            <p class="status" role="status" data-testid="password-status">{move || status.get().into_any()}</p>
            <button type="submit" data-testid="change-password-submit" disabled=move || busy.get().then_some("")>
                {move || String::from(if busy.get() { "Changing…" } else { "Change password" })}
            </button>
        </form>
    }
}
