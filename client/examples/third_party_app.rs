//! A complete Leptos app on tokenpair-client against a backend that is **not** tokenpair's —
//! shaped like a typical OAuth 2.0-style API (docs/client.md, "Use the client with your own
//! backend"; the e2e suite serves this app from such a backend and drives it in Chromium):
//!
//! * `POST /auth/token` with a form body (`grant_type=password&username=…&password=…`);
//! * `POST /auth/token/refresh`, rotating the HttpOnly refresh cookie (`Path=/auth`);
//! * `POST /auth/logout`;
//! * answers `{"access_token", "token_type", "expires_in"}` — no user object, no session id:
//!   the user comes from the access token's claims;
//! * `400 {"error": "invalid_grant"}` for a dead refresh token (also at page load, where it
//!   just means "nobody is signed in": no special restore endpoint);
//! * its own CSRF header, `X-CSRF-Token: 1`.
//!
//! All of that is the `Protocol` impl below; everything else is the client's.

use std::time::Duration;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tokenpair_client::protocol::jwt;
use tokenpair_client::{
    provide_auth, use_auth, AuthEvent, ClientConfig, Endpoints, Grant, Protocol, Request, Response,
    SignOutScope,
};
use wasm_bindgen::JsValue;

/// The app's user, read from the access token's claims.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
}

/// How this backend speaks the token-pair pattern.
pub struct OAuthStyle {
    endpoints: Endpoints,
}

impl OAuthStyle {
    pub fn new() -> Self {
        OAuthStyle {
            endpoints: Endpoints::new("/auth/token/refresh", "/auth/logout")
                // Every cookie endpoint lives under /auth: never a Bearer call there.
                .with_cookie_path("/auth")
                .with_csrf_header("X-CSRF-Token", "1"),
        }
    }
}

impl Default for OAuthStyle {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    name: String,
}

impl Protocol for OAuthStyle {
    type User = User;
    /// Username and password.
    type SignIn = (String, String);

    fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    fn sign_in_request(&self, (username, password): &(String, String)) -> Request {
        Request::post("/auth/token").form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
    }

    fn read_grant(&self, response: &Response) -> Result<Grant<User>, String> {
        let body: TokenResponse = response.json()?;
        let claims: Claims = jwt::claims(&body.access_token)?;
        // `expires_in` when the backend sends it, else the token's own `exp`.
        let expires_in = match body.expires_in {
            Some(secs) => Duration::from_secs(secs),
            None => jwt::expires_in(&body.access_token, js_sys::Date::now())?,
        };
        let user = User {
            id: claims.sub,
            name: claims.name,
        };
        Ok(Grant::new(body.access_token, expires_in, user))
    }

    fn user_to_js(&self, user: &User) -> JsValue {
        tokenpair_client::json::to_value(user).unwrap_or(JsValue::NULL)
    }

    fn user_from_js(&self, value: &JsValue) -> Result<User, String> {
        tokenpair_client::json::from_value(value.clone())
    }
    // Refresh verdicts (400/401 invalid_grant ends a session), the restore (a refusal means
    // "nobody signed in"), logout and error bodies: the client's defaults.
}

/// What `GET /api/profile` answers.
#[derive(Deserialize)]
struct Profile {
    name: String,
    email: String,
}

#[component]
fn App() -> impl IntoView {
    let auth = provide_auth(OAuthStyle::new(), ClientConfig::new("third-party-app"));
    // The events, as they happen (a real app would clear its caches on a sign-out).
    let events = RwSignal::new(Vec::<String>::new());
    auth.on_event(move |event| {
        let line = match event {
            AuthEvent::SignedIn { user } => format!("signed in: {}", user.name),
            AuthEvent::Restored { user } => format!("restored: {}", user.name),
            AuthEvent::Refreshed => "refreshed".into(),
            AuthEvent::SignedOut { reason } => format!("signed out: {reason:?}"),
            other => format!("{other:?}"),
        };
        events.update(|e| e.push(line));
    });
    view! {
        <main>
            <h1>"tokenpair-client, another backend"</h1>
            // `route_condition` is memoised: a refreshed token does not rebuild the page.
            {move || match auth.route_condition() {
                None => view! { <p data-testid="restoring">"Restoring your session…"</p> }.into_any(),
                Some(true) => view! { <Home/> }.into_any(),
                Some(false) => view! { <SignIn/> }.into_any(),
            }}
            {move || auth.store().problem().map(|p| view! { <p role="alert" data-testid="problem">{p.message()}</p> })}
            <h2>"Events"</h2>
            <ol data-testid="events">{move || events.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}</ol>
        </main>
    }
}

#[component]
fn SignIn() -> impl IntoView {
    let auth = use_auth::<OAuthStyle>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let credentials = (username.get_untracked(), password.get_untracked());
        leptos::task::spawn_local(async move {
            let result = auth.endpoints().sign_in(credentials).await;
            error.try_set(result.err().map(|e| e.to_string()));
        });
    };
    view! {
        {move || auth.store().notice().map(|n| view! { <p role="status" data-testid="notice">{n.message()}</p> })}
        <form on:submit=submit>
            <label>"Username " <input id="username" autocomplete="username" bind:value=username/></label>
            <label>"Password " <input id="password" type="password" autocomplete="current-password" bind:value=password/></label>
            <button type="submit" data-testid="sign-in">"Sign in"</button>
        </form>
        {move || error.get().map(|e| view! { <p role="alert" data-testid="error">{e}</p> })}
    }
}

#[component]
fn Home() -> impl IntoView {
    let auth = use_auth::<OAuthStyle>();
    let profile = RwSignal::new(None::<String>);
    let answers = RwSignal::new(0u32);
    let load = move || {
        leptos::task::spawn_local(async move {
            // A Bearer call: on a 401 the client refreshes once and retries once.
            let text = match auth.api().get_json::<Profile>("/api/profile").await {
                Ok(p) => format!("{} <{}>", p.name, p.email),
                Err(e) => format!("error: {e}"),
            };
            profile.try_set(Some(text));
            answers.try_update(|n| *n += 1);
        });
    };
    load();
    let sign_out =
        move |_| leptos::task::spawn_local(auth.endpoints().sign_out(SignOutScope::ThisDevice));
    view! {
        <p>"Signed in as " <b data-testid="user">{move || auth.store().user().map(|u| u.name)}</b></p>
        <p data-testid="profile">{move || profile.get()}</p>
        <p>"Answers: " <span data-testid="profile-answers">{move || answers.get()}</span></p>
        <button data-testid="load-profile" on:click=move |_| load()>"Load the profile again"</button>
        <button data-testid="sign-out" on:click=sign_out>"Sign out"</button>
    }
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}
