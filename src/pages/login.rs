//! `/login` and `/register`: one form, two endpoints. The rules the server enforces are checked
//! here first (shared from `tokenpair_api::rules`), each message sits under its own field and is
//! linked to it, and after sign-in the user goes back to the page they asked for (`?next=`,
//! same-origin paths only).

use leptos::prelude::*;
use tokenpair_api::{rules, ErrorCode};
use tokenpair_client::{safe_return_path, ClientError, SignOutScope, TokenpairSignIn};

use crate::components::page_heading::PageHeading;
use crate::components::passkey_sign_in::PasskeySignIn;
use crate::context::{use_auth, use_clock};
use crate::effect::effect;

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
    view! { <AuthForm form=Form::SignIn/> }
}

#[component]
pub fn Register() -> impl IntoView {
    view! { <AuthForm form=Form::Register/> }
}

/// The ids of an input's hint and error paragraphs (`aria-describedby` names them).
#[derive(Clone, Copy)]
struct MessageIds {
    hint: &'static str,
    error: &'static str,
    /// Both, for `aria-describedby`.
    hint_and_error: &'static str,
}

const USERNAME: MessageIds = MessageIds {
    hint: "username-hint",
    error: "username-error",
    hint_and_error: "username-hint username-error",
};
const PASSWORD: MessageIds = MessageIds {
    hint: "password-hint",
    error: "password-error",
    hint_and_error: "password-hint password-error",
};

/// One input's messages: the hint (registration rules) and the current error.
#[derive(Clone, Copy)]
struct Field {
    ids: MessageIds,
    hint: Option<&'static str>,
    error: RwSignal<Option<String>>,
    input: NodeRef<leptos::html::Input>,
}

impl Field {
    fn new(ids: MessageIds, hint: Option<&'static str>) -> Field {
        Field {
            ids,
            hint,
            error: RwSignal::new(None),
            input: NodeRef::new(),
        }
    }

    fn value(&self) -> String {
        self.input
            .get_untracked()
            .map(|i| i.value())
            .unwrap_or_default()
    }

    fn focus(&self) {
        if let Some(input) = self.input.get_untracked() {
            let _ = input.focus();
        }
    }

    /// `aria-describedby`: the hint and the error, when shown.
    fn described_by(&self) -> Option<&'static str> {
        match (self.hint.is_some(), self.error.get().is_some()) {
            (true, true) => Some(self.ids.hint_and_error),
            (true, false) => Some(self.ids.hint),
            (false, true) => Some(self.ids.error),
            (false, false) => None,
        }
    }

    /// The hint and error paragraphs under the input.
    fn messages(self) -> impl IntoView {
        let ids = self.ids;
        view! {
            {self.hint.map(|h| view! { <p class="hint" id=ids.hint>{h}</p> })}
            {move || self.error.get().map(|e| view! {
                <p class="field-error" id=ids.error data-testid=ids.error>{e}</p>
            }).into_any()}
        }
    }
}

/// Which of the two forms: the same fields, two endpoints and rule sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    SignIn,
    Register,
}

#[component]
fn AuthForm(form: Form) -> impl IntoView {
    let register = form == Form::Register;
    let auth = use_auth();
    let store = auth.store();
    let clock = use_clock();
    let here = crate::router::use_location();

    let hints = |h| register.then_some(h);
    let username = Field::new(USERNAME, hints(rules::USERNAME_HINT));
    let password = Field::new(PASSWORD, hints(rules::PASSWORD_HINT));
    let pending = RwSignal::new(false);
    let form_error = RwSignal::new(None::<String>);
    let show_password = RwSignal::new(false);
    // 429: no new attempt before this wall-clock time (ms); the message counts down.
    let retry_at = RwSignal::new(None::<f64>);
    let wait_secs = move || {
        let at = retry_at.get()?;
        let left = ((at - clock.now().wall_ms) / 1000.0).ceil();
        (left > 0.0).then_some(left as u64)
    };

    // Signed in (here, or in another tab): go where the user wanted to go.
    effect(move |_| {
        if store.signed_in() == Some(true) {
            let next = safe_next(here.query("next"));
            here.navigate(&next, crate::router::History::Push);
        }
    });

    // The browser-side check of the server's rules; returns whether the form may be sent.
    let check = move || {
        let (u, p) = (username.value(), password.value());
        let (user_error, pass_error) = if register {
            (
                rules::validate_username(&u).err(),
                rules::validate_password(&p).err(),
            )
        } else {
            rules::check_sign_in(&u, &p)
        };
        let ok = user_error.is_none() && pass_error.is_none();
        if user_error.is_some() {
            username.focus();
        } else if pass_error.is_some() {
            password.focus();
        }
        username.error.set(user_error);
        password.error.set(pass_error);
        ok
    };

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() || wait_secs().is_some() {
            return;
        }
        form_error.set(None);
        if !check() {
            return;
        }
        let credentials = if register {
            TokenpairSignIn::register(&username.value(), &password.value())
        } else {
            TokenpairSignIn::password(&username.value(), &password.value())
        };
        store.clear_notice();
        pending.set(true);
        let endpoints = auth.endpoints();
        leptos::task::spawn_local(async move {
            let result = endpoints.sign_in(credentials).await;
            pending.try_set(false);
            let Err(error) = result else { return };
            // A failed attempt never leaves the password behind.
            if let Some(input) = password.input.get_untracked() {
                input.set_value("");
            }
            match &error {
                ClientError::Api(e) if e.code == ErrorCode::UsernameTaken.as_str() => {
                    username.error.try_set(Some(e.message.clone()));
                    username.focus();
                }
                ClientError::Api(e) if e.code == ErrorCode::ValidationFailed.as_str() => {
                    let field = if e.message.starts_with("Password") {
                        password
                    } else {
                        username
                    };
                    field.error.try_set(Some(e.message.clone()));
                    field.focus();
                }
                ClientError::Api(e) if e.code == ErrorCode::TooManyAttempts.as_str() => {
                    let secs = e.retry_after.map_or(1, |d| d.as_secs()).max(1) as f64;
                    retry_at.try_set(Some(js_sys::Date::now() + secs * 1000.0));
                    password.focus();
                }
                _ => {
                    form_error.try_set(Some(error.to_string()));
                    password.focus();
                }
            }
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
                <PageHeading title=title/>
                {move || store.pending_sign_out().map(|scope| view! {
                    <p class="banner warn" role="status" data-testid="sign-out-pending">
                        {if scope == SignOutScope::Everywhere {
                            "Signing you out everywhere — waiting for the server to confirm. "
                        } else {
                            "Signing you out — waiting for the server to confirm. "
                        }}
                        "Until it does, the session may still be active on the server; this page keeps trying, even after a reload."
                    </p>
                }).into_any()}
                {move || store.notice().map(|n| view! { <p class="banner info" role="status" data-testid="notice">{n.message()}</p> }).into_any()}
                <form on:submit=on_submit novalidate>
                    <label for="username">"Username"</label>
                    // `webauthn`: the browser offers this site's passkeys in the field's autofill.
                    <input id="username" name="username" required
                        autocomplete=if register { "username" } else { "username webauthn" }
                        aria-invalid=move || username.error.get().is_some().then_some("true")
                        aria-describedby=move || username.described_by()
                        node_ref=username.input/>
                    {username.messages()}
                    <label for="password">"Password"</label>
                    <div class="password-row">
                        // Reactive attributes as `Option<&str>` (here always `Some`): one copy of
                        // the render code for them all, the optional `aria-*` ones included.
                        <input id="password" name="password" required
                            type=move || Some(if show_password.get() { "text" } else { "password" })
                            autocomplete=if register { "new-password" } else { "current-password" }
                            aria-invalid=move || password.error.get().is_some().then_some("true")
                            aria-describedby=move || password.described_by()
                            node_ref=password.input/>
                        <button type="button" class="secondary" data-testid="show-password"
                            aria-controls="password" aria-pressed=move || Some(if show_password.get() { "true" } else { "false" })
                            on:click=move |_| show_password.update(|s| *s = !*s)>
                            {move || String::from(if show_password.get() { "Hide" } else { "Show" })}
                            <span class="visually-hidden">" password"</span>
                        </button>
                    </div>
                    {password.messages()}
                    // While throttled (429) the countdown, otherwise the last error, if any.
                    {move || {
                        let throttled = wait_secs().map(|s| format!("Too many failed sign-in attempts. Try again in {s} s."));
                        throttled.or_else(|| form_error.get()).map(|e| view! {
                            <p class="banner error" role="alert" data-testid="form-error">{e}</p>
                        }).into_any()
                    }}
                    // `disabled` as `Some("")`/`None`, not a bool: the same attribute, through the
                    // render code the optional `aria-*` attributes already use.
                    <button type="submit" data-testid="submit" disabled=move || (pending.get() || wait_secs().is_some()).then_some("")>
                        {move || String::from(if pending.get() { "Please wait…" } else { button })}
                    </button>
                </form>
                {(!register).then(|| view! { <PasskeySignIn error=form_error/> })}
                <p>{other_text} <a href=other_href>{other_link}</a></p>
                {(!register).then(|| view! { <p class="hint">"Demo accounts: user1 / password1 · user2 / password2"</p> })}
            </section>
        }
    };
    // Only a signed-out visitor sees the form: while the session is being restored (or once
    // signed in, until the redirect) a neutral line stands in.
    view! {
        {move || if store.signed_in() == Some(false) {
            form().into_any()
        } else {
            view! { <p class="loading" role="status" data-testid="restoring">"Checking your session…"</p> }.into_any()
        }}
    }
}
