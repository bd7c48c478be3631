//! `/sessions` — the user's signed-in devices; revoke one, or sign out everywhere.

use leptos::prelude::*;
use tokenpair_api::{paths, SessionInfo};
use tokenpair_client::SignOutScope;

use crate::context::use_auth;
use crate::loading::fetch_json;

#[component]
pub fn Sessions() -> impl IntoView {
    let auth = use_auth();
    let version = RwSignal::new(0u32);
    let sessions = fetch_json::<Vec<SessionInfo>>(|| paths::SESSIONS.into(), version);
    let error = RwSignal::new(None::<String>);
    let revoke = move |id: String| {
        let (api, path) = (auth.api(), format!("{}/{}", paths::SESSIONS, id));
        leptos::task::spawn_local(async move {
            error.try_set(api.delete(&path).await.err().map(|e| e.to_string()));
            version.try_update(|v| *v += 1);
        });
    };
    // Signed out here at once; "signed out everywhere" is said only after the server's 204.
    let everywhere = move |_| {
        leptos::task::spawn_local(auth.endpoints().sign_out(SignOutScope::Everywhere));
    };

    view! {
        <section class="card">
            <h1>"Sessions"</h1>
            <p class="hint">"Each sign-in is one session: a family of refresh tokens that rotate on every use."</p>
            {move || error.get().map(|e| view! { <p class="banner error" role="alert">{e}</p> })}
            {move || match sessions.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(r) => match r {
                    Ok(list) => view! {
                        <ul class="sessions" data-testid="sessions">
                            {list.into_iter().map(|s| session_row(s, revoke)).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p class="banner error" role="alert">{e.to_string()}</p> }.into_any(),
                },
            }}
            <button class="danger" data-testid="sign-out-everywhere" on:click=everywhere>"Sign out everywhere"</button>
        </section>
    }
}

fn session_row(s: SessionInfo, revoke: impl Fn(String) + Copy + 'static) -> impl IntoView {
    let id = s.id.clone();
    let device = s
        .user_agent
        .clone()
        .unwrap_or_else(|| "Unknown device".into());
    view! {
        <li class="session" data-testid="session" data-current=s.current.to_string()>
            <div>
                <strong class="device">{device}</strong>
                {s.current.then(|| view! { <span class="badge">"this device"</span> })}
                <div class="hint">
                    "Signed in " {s.created_at} " · last used " {s.last_used_at} " · ends by " {s.expires_at}
                </div>
            </div>
            {(!s.current).then(|| view! {
                <button class="secondary" data-testid="revoke" on:click=move |_| revoke(id.clone())>"Revoke"</button>
            })}
        </li>
    }
}
