//! The account's passkeys: list (`GET /api/passkeys`), add (the server's creation options →
//! `navigator.credentials.create` → `POST /api/passkeys`), rename, delete. Adding and deleting
//! are dangerous actions: the re-authentication dialog asks first when the sign-in is old.

use leptos::prelude::*;
use tokenpair_api::{paths, PasskeyInfo};
use tokenpair_client::{passkey, ApiClient, ClientError, Request, TokenpairProtocol};
use wasm_bindgen::JsValue;

use crate::context::{use_auth, use_clock};
use crate::loading::{failure, fetch_json};
use crate::time;

/// A string as a JSON string literal.
fn json_string(s: &str) -> String {
    js_sys::JSON::stringify(&JsValue::from_str(s))
        .map(String::from)
        .unwrap_or_default()
}

/// Creation options → a new credential → posted back under `name`.
async fn add_passkey(api: ApiClient<TokenpairProtocol>, name: String) -> Result<(), ClientError> {
    let options = api
        .send(Request::post(paths::PASSKEY_REGISTRATION_OPTIONS).json_text("{}"))
        .await?
        .text();
    let credential = passkey::create(&options)
        .await
        .map_err(ClientError::Passkey)?;
    let body = [
        "{\"name\":",
        &json_string(&name),
        ",\"credential\":",
        &credential,
        "}",
    ]
    .concat();
    api.send(Request::post(paths::PASSKEYS).json_text(body))
        .await
        .map(|_| ())
}

#[component]
pub fn Passkeys() -> impl IntoView {
    let auth = use_auth();
    let clock = use_clock();
    let version = RwSignal::new(0u32);
    let keys = fetch_json::<Vec<PasskeyInfo>>(|| paths::PASSKEYS.into(), version);
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let name = NodeRef::<leptos::html::Input>::new();
    let done = move |text: String| {
        busy.try_set(false);
        status.try_set(Some(text));
        version.try_update(|v| *v += 1);
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = name.get_untracked();
        let label = input.as_ref().map(|i| i.value()).unwrap_or_default();
        let label = match label.trim() {
            "" => "Passkey".to_owned(),
            l => l.to_owned(),
        };
        busy.set(true);
        status.set(None);
        let api = auth.api();
        leptos::task::spawn_local(async move {
            match add_passkey(api, label.clone()).await {
                Ok(()) => {
                    if let Some(i) = input {
                        i.set_value("");
                    }
                    done(format!("Passkey “{label}” added."));
                }
                Err(e) => done(format!("The passkey was not added: {e}")),
            }
        });
    };
    let remove = move |id: String, label: String| {
        busy.set(true);
        let api = auth.api();
        leptos::task::spawn_local(async move {
            let path = [paths::PASSKEYS, "/", &id].concat();
            done(match api.delete(&path).await {
                Ok(()) => format!("Passkey “{label}” deleted."),
                Err(e) => format!("Passkey “{label}” was not deleted: {e}"),
            });
        });
    };
    let rename = move |id: String, label: String| {
        let api = auth.api();
        leptos::task::spawn_local(async move {
            let path = [paths::PASSKEYS, "/", &id].concat();
            let body = ["{\"name\":", &json_string(&label), "}"].concat();
            done(match api.send(Request::patch(path).json_text(body)).await {
                Ok(_) => format!("Renamed to “{label}”."),
                Err(e) => format!("Not renamed: {e}"),
            });
        });
    };
    let list = move || {
        match keys.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="banner error" role="alert">{failure(&e)}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => {
            view! { <p data-testid="no-passkeys">"No passkeys yet."</p> }.into_any()
        }
        Some(Ok(list)) => view! {
            <ul class="sessions" data-testid="passkeys">
                {list.into_iter().map(|k| passkey_row(k, clock, busy, rename, remove)).collect_view()}
            </ul>
        }
        .into_any(),
    }
    };
    view! {
        <h2>"Passkeys"</h2>
        <p class="hint">"Sign in with your device's screen lock or a security key instead of a password. The private key never leaves the device."</p>
        <p class="status" role="status" data-testid="passkey-status">{move || status.get().into_any()}</p>
        {move || list()}
        {if passkey::supported() {
            view! {
                <form class="inline" on:submit=add data-testid="add-passkey">
                    <label for="passkey-name">"Name"</label>
                    <input id="passkey-name" maxlength="64" placeholder="This laptop" data-testid="passkey-name" node_ref=name/>
                    <button type="submit" data-testid="add-passkey-submit" disabled=move || busy.get().then_some("")>"Add a passkey"</button>
                </form>
            }.into_any()
        } else {
            view! { <p class="banner info" data-testid="passkeys-unsupported">"This browser or address cannot use passkeys: they need a secure context with a domain name (such as http://localhost:8080), never an IP address."</p> }.into_any()
        }}
    }
}

fn passkey_row(
    k: PasskeyInfo,
    clock: crate::context::Clock,
    busy: RwSignal<bool>,
    rename: impl Fn(String, String) + Copy + Send + Sync + 'static,
    remove: impl Fn(String, String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let input = NodeRef::<leptos::html::Input>::new();
    let when = move |at: Option<f64>| match at {
        Some(ms) => time::relative(ms, clock.now().wall_ms),
        None => "never".to_owned(),
    };
    let created = time::parse_ms(&k.created_at);
    let used = k.last_used_at.as_deref().and_then(time::parse_ms);
    let (id, id2, name, name2) = (k.id.clone(), k.id.clone(), k.name.clone(), k.name.clone());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let label = input.get_untracked().map(|i| i.value()).unwrap_or_default();
        editing.set(false);
        rename(id.clone(), label.trim().to_owned());
    };
    view! {
        <li class="session" data-testid="passkey">
            <div>
                <strong data-testid="passkey-label">{k.name.clone()}</strong>
                {k.backed_up.then(|| view! { <span class="badge">"synced"</span> }).into_any()}
                <div class="hint">"Added " {move || when(created)} " · last used " {move || when(used)}</div>
            </div>
            {move || if editing.get() {
                view! {
                    <form class="inline" on:submit=save.clone()>
                        <label class="visually-hidden" for="rename">"New name"</label>
                        <input id="rename" maxlength="64" value=name.clone() node_ref=input data-testid="rename-input"/>
                        <button type="submit" data-testid="rename-save">"Save"</button>
                    </form>
                }.into_any()
            } else {
                let (id, label) = (id2.clone(), name2.clone());
                view! {
                    <button class="secondary" data-testid="rename" on:click=move |_| editing.set(true)>"Rename"</button>
                    <button class="secondary" data-testid="delete-passkey" disabled=move || busy.get().then_some("")
                        on:click=move |_| remove(id.clone(), label.clone())>"Delete"</button>
                }.into_any()
            }}
        </li>
    }
}
