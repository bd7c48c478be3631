//! `/` — who you are (from `GET /api/me`, through the refreshing client) and what the tokens
//! are doing right now.

use leptos::prelude::*;
use tokenpair_api::{paths, Me};

use crate::components::page_heading::PageHeading;
use crate::context::{use_auth, use_clock};
use crate::loading::{failure, fetch_json};
use crate::time;

#[component]
pub fn Dashboard() -> impl IntoView {
    let store = use_auth().store();
    let clock = use_clock();

    // For the e2e suite's reload timing: navigation start → protected view rendered.
    if let Some(perf) = window().performance() {
        let _ = perf.mark("tokenpair:protected-view");
    }

    let calls = RwSignal::new(0u32);
    let me = fetch_json::<Me>(|| paths::ME.into(), calls);
    let remaining = move || store.token().map(|t| t.remaining_secs(&clock.now()));
    let last_event = move || {
        store
            .timeline()
            .last()
            .map(|e| format!("{}: {}", e.kind.label(), e.detail))
    };
    let refreshes = move || store.refresh_count();

    view! {
        <crate::pages::activity::Notice/>
        <section class="card">
            <PageHeading title="Dashboard"/>
            {move || match me.get() {
                None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                Some(r) => match r {
                    Ok(me) => view! {
                        <dl class="facts" data-testid="me">
                            <dt>"Signed in as"</dt><dd data-testid="me-username">{me.username}</dd>
                            <dt>"User id"</dt><dd>{me.id}</dd>
                            <dt>"Account created"</dt><dd>{created(me.created_at)}</dd>
                        </dl>
                    }.into_any(),
                    Err(e) => view! { <p class="banner error" role="alert" data-testid="me-error">{failure(&e)}</p> }.into_any(),
                },
            }}
            <button data-testid="call-api" on:click=move |_| calls.update(|n| *n += 1)>"Call GET /api/me again"</button>
            <p class="hint">"Each call carries the in-memory access token; an expired one is refreshed once and the call retried."</p>
        </section>
        <section class="card">
            <h2>"What the tokens are doing"</h2>
            <dl class="facts">
                <dt>"Access token expires in"</dt>
                <dd data-testid="expires-in">{move || remaining().map(|s| format!("{s} s")).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Refresh requests from this tab"</dt>
                <dd data-testid="refresh-count">{move || refreshes().to_string()}</dd>
                <dt>"Latest event"</dt>
                <dd data-testid="last-event">{move || last_event().into_any()}</dd>
                <dt>"Refresh token"</dt>
                <dd>"In an HttpOnly cookie — JavaScript cannot read it, by design."</dd>
            </dl>
        </section>
    }
}

/// An RFC 3339 time as the local date and time (the exact value stays in `datetime`).
fn created(iso: String) -> impl IntoView {
    let shown = time::parse_ms(&iso)
        .map(time::local)
        .unwrap_or_else(|| iso.clone());
    view! { <time datetime=iso>{shown}</time> }
}
