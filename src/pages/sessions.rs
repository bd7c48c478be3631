//! `/sessions` — the user's signed-in devices, this one first; revoke one, or sign out
//! everywhere. Both ask first in a modal `<dialog>` (Tab wraps inside it, and the focus
//! returns to the button that opened it), show that they are working, and announce the result
//! in a `role=status` region that then holds the focus.

use leptos::prelude::*;
use tokenpair_api::{paths, SessionInfo};
use tokenpair_client::SignOutScope;

use crate::components::dialog::trap_tab;
use crate::components::page_heading::PageHeading;
use crate::context::{use_auth, use_clock};
use crate::loading::{failure, fetch_json_pages};
use crate::time;

/// What the confirmation dialog is about.
#[derive(Clone, PartialEq)]
enum Ask {
    Revoke { id: String, device: String },
    Everywhere,
}

#[component]
pub fn Sessions() -> impl IntoView {
    let auth = use_auth();
    let clock = use_clock();
    let version = RwSignal::new(0u32);
    // Every page of the list (the server pages it; `MAX_SESSIONS_PER_USER` bounds it).
    let sessions = fetch_json_pages::<SessionInfo>(|| paths::SESSIONS.into(), version);
    let asking = RwSignal::new(None::<Ask>);
    let busy = RwSignal::new(false);
    let status = RwSignal::new(None::<String>);
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let status_el = NodeRef::<leptos::html::P>::new();
    let opener = StoredValue::new_local(None::<web_sys::HtmlElement>);

    let open = move |ask: Ask| {
        opener.set_value(
            document()
                .active_element()
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok()),
        );
        asking.set(Some(ask));
        if let Some(d) = dialog.get_untracked() {
            let _ = d.show_modal();
        }
    };
    let close = move || {
        if let Some(d) = dialog.get_untracked() {
            d.close();
        }
    };
    // Cancel (button or Escape): focus goes back to the button that opened the dialog. After a
    // confirmation (`asking` already cleared) the focus stays where `announce` put it: the
    // `close` event comes a task later, and the opener may be gone with its row.
    let on_close = move |_| {
        if !busy.get_untracked() && asking.get_untracked().is_some() {
            asking.set(None);
            opener.with_value(|o| {
                if let Some(o) = o {
                    let _ = o.focus();
                }
            });
        }
    };
    // The region stays in the page (empty) so that screen readers watch it; the focus moves
    // to it once the text is rendered (effects run after this task, before the next frame).
    let announce = move |text: String| {
        status.try_set(Some(text));
        request_animation_frame(move || {
            if let Some(p) = status_el.get_untracked() {
                let _ = p.focus();
            }
        });
    };
    let confirm = move |_| {
        let Some(ask) = asking.get_untracked() else {
            return;
        };
        busy.set(true);
        match ask {
            Ask::Revoke { id, device } => {
                let (api, path) = (auth.api(), [paths::SESSIONS, "/", &id].concat());
                leptos::task::spawn_local(async move {
                    let result = api.delete(&path).await;
                    busy.try_set(false);
                    asking.try_set(None);
                    close();
                    announce(match result {
                        Ok(()) => format!("Signed out {device}."),
                        Err(e) => format!("Could not sign out {device}: {e}"),
                    });
                    version.try_update(|v| *v += 1);
                });
            }
            // Signed out here at once; "signed out everywhere" is said (on the sign-in page)
            // only after the server's 204.
            Ask::Everywhere => {
                busy.set(false);
                asking.set(None);
                close();
                let store = auth.store();
                let sign_out = auth.endpoints().sign_out(SignOutScope::Everywhere);
                leptos::task::spawn_local(async move {
                    sign_out.await;
                    // Still signed in: the re-authentication it asked for was cancelled.
                    if store.signed_in() == Some(true) {
                        announce("Nothing was changed: signing out everywhere needs you to confirm it is you.".into());
                    }
                });
            }
        }
    };

    let list = move || {
        match sessions.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(e)) => {
            view! { <p class="banner error" role="alert" data-testid="sessions-error">{failure(&e)}</p> }.into_any()
        }
        Some(Ok(mut list)) => {
            // This device first, the others in the server's order (a rotation, not a sort: a
            // stable sort costs 2 KB of the gzip'd bundle).
            if let Some(current) = list.iter().position(|s| s.current) {
                list[..=current].rotate_right(1);
            }
            view! {
                <ul class="sessions" data-testid="sessions">
                    {list.into_iter().map(|s| session_row(s, clock, open)).collect_view()}
                </ul>
            }
            .into_any()
        }
    }
    };
    let question = move || match asking.get() {
        Some(Ask::Revoke { device, .. }) => (
            format!("Sign out {device}?"),
            "That device's session ends now: its next request signs it out.".to_owned(),
            "Sign it out",
        ),
        _ => (
            "Sign out everywhere?".to_owned(),
            "Every session ends, this one included: every device will have to sign in again."
                .to_owned(),
            "Sign out everywhere",
        ),
    };

    view! {
        <section class="card">
            <PageHeading title="Sessions"/>
            <p class="hint">"Each sign-in is one session: a family of refresh tokens that rotate on every use."</p>
            <p class="status" role="status" tabindex="-1" data-testid="sessions-status" node_ref=status_el>
                {move || status.get().into_any()}
            </p>
            {move || list()}
            <button class="danger" data-testid="sign-out-everywhere" on:click=move |_| open(Ask::Everywhere)>
                "Sign out everywhere"
            </button>
        </section>
        <dialog class="confirm" aria-labelledby="confirm-title" aria-describedby="confirm-text"
            data-testid="confirm" node_ref=dialog on:close=on_close on:keydown=move |ev| trap_tab(dialog, &ev)
            on:cancel=move |ev: leptos::ev::Event| if busy.get_untracked() { ev.prevent_default() }>
            <h2 id="confirm-title">{move || question().0}</h2>
            <p id="confirm-text">{move || question().1}</p>
            <div class="actions">
                // `disabled` as `Some("")`/`None`, not a bool: the same attribute, through the
                // render code the optional `aria-*` attributes already use.
                <button class="secondary" data-testid="confirm-cancel" disabled=move || busy.get().then_some("")
                    on:click=move |_| close()>"Cancel"</button>
                <button class="danger" data-testid="confirm-ok" disabled=move || busy.get().then_some("") on:click=confirm>
                    {move || String::from(if busy.get() { "Signing out…" } else { question().2 })}
                </button>
            </div>
        </dialog>
    }
}

fn session_row(
    s: SessionInfo,
    clock: crate::context::Clock,
    open: impl Fn(Ask) + Copy + 'static,
) -> impl IntoView {
    let device = if s.device.is_empty() {
        "Unknown device".to_owned()
    } else {
        s.device.clone()
    };
    let when = move |iso: String| {
        let at = time::parse_ms(&iso);
        let exact = at.map(time::local).unwrap_or_else(|| iso.clone());
        let relative = move || {
            at.map(|ms| time::relative(ms, clock.now().wall_ms))
                .unwrap_or_default()
        };
        view! { <time datetime=iso.clone() title=exact>{move || relative()}</time> }
    };
    let ask = Ask::Revoke {
        id: s.id.clone(),
        device: device.clone(),
    };
    let label = ["Sign out ", &device].concat();
    view! {
        <li class="session" data-testid="session" data-current=if s.current { "true" } else { "false" }>
            <div>
                <strong class="device" data-testid="device">{device.clone()}</strong>
                {s.current.then(|| view! { <span class="badge">"this device"</span> })}
                <div class="hint">
                    "Signed in " {when(s.created_at)} " · last used " {when(s.last_used_at)}
                    " · ends " {when(s.expires_at)}
                </div>
                {s.user_agent.map(|ua| view! { <div class="hint ua">{ua}</div> })}
            </div>
            {(!s.current).then(|| view! {
                <button class="secondary" data-testid="revoke" on:click=move |_| open(ask.clone())>{label}</button>
            })}
        </li>
    }
}
