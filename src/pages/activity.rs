//! `/activity` — the account's security activity (`GET /api/security-events`, the newest 50),
//! in sentences, with relative times and this device marked; and the one-time notice the
//! dashboard shows after a replayed refresh token ([`Notice`]).

use leptos::prelude::*;
use tokenpair_api::{js, paths, SecurityEvent, SecurityEventKind as Kind};
use tokenpair_client::Request;

use crate::components::page_heading::PageHeading;
use crate::context::{use_auth, use_clock};
use crate::loading::{failure, fetch_json};
use crate::time;

/// What happened, said to the account's owner.
pub fn sentence(e: &SecurityEvent) -> String {
    let device = e.device.as_deref().unwrap_or("an unknown device");
    let detail = e.detail.as_deref().unwrap_or_default();
    match Kind::parse(&e.kind) {
        Some(Kind::AccountCreated) => ["Your account was created on ", device, "."].concat(),
        Some(Kind::SignedIn) => ["Signed in on ", device, "."].concat(),
        Some(Kind::SignInFailed) => [
            "A sign-in with a wrong password was refused (",
            device,
            ").",
        ]
        .concat(),
        Some(Kind::SignInBlocked) => {
            let from = match detail.split(' ').next() {
                Some("device") => "with that device",
                Some("account_from_address") => "from that network",
                _ => "to your account from new devices",
            };
            [
                "Too many failed sign-ins: we paused sign-ins ",
                from,
                " for a while.",
            ]
            .concat()
        }
        Some(Kind::SignedOut) => ["Signed out on ", device, "."].concat(),
        Some(Kind::SignedOutEverywhere) => {
            ["Signed out everywhere (", detail, " sessions ended)."].concat()
        }
        Some(Kind::SessionReplaced) => [
            "Signing in again on ",
            device,
            " ended its previous session.",
        ]
        .concat(),
        Some(Kind::SessionRevoked) => ["A session was signed out from ", device, "."].concat(),
        Some(Kind::SessionEvicted) => [
            "The session on ",
            device,
            " ended to make room: too many devices were signed in.",
        ]
        .concat(),
        Some(Kind::SessionExpired) if detail == "idle" => {
            ["The session on ", device, " ended after a while unused."].concat()
        }
        Some(Kind::SessionExpired) => {
            ["The session on ", device, " reached its time limit."].concat()
        }
        Some(Kind::RefreshTokenReused) => [
            "An old sign-in token was used again from ",
            device,
            " — we signed that device out to be safe.",
        ]
        .concat(),
        Some(Kind::SigningKeyRotated) => "The server rotated its signing key.".into(),
        Some(Kind::DpopKeyMismatch) => [
            "Someone tried to keep a session alive from ",
            device,
            " without this browser's key — we signed that session out to be safe.",
        ]
        .concat(),
        Some(Kind::Reauthenticated) => {
            let how = if detail == "pwd" { "your password" } else { "a passkey" };
            ["You confirmed it was you with ", how, " on ", device, "."].concat()
        }
        Some(Kind::ReauthenticationFailed) => [
            "A wrong password was entered to confirm it was you (",
            device,
            ").",
        ]
        .concat(),
        Some(Kind::PasswordChanged) => [
            "Your password was changed on ",
            device,
            " (",
            detail,
            " other sessions ended).",
        ]
        .concat(),
        Some(Kind::PasskeyAdded) => ["Passkey “", detail, "” was added on ", device, "."].concat(),
        Some(Kind::PasskeyRenamed) => ["A passkey was renamed to “", detail, "”."].concat(),
        Some(Kind::PasskeyDeleted) => ["Passkey “", detail, "” was deleted on ", device, "."].concat(),
        Some(Kind::SignedInWithPasskey) => ["Signed in with a passkey on ", device, "."].concat(),
        Some(Kind::PasskeyCloneSuspected) => [
            "Passkey “",
            detail,
            "” was used with an out-of-date signature counter — a copied authenticator? The sign-in was refused.",
        ]
        .concat(),
        None => ["Security event: ", &e.kind, "."].concat(),
    }
}

#[component]
pub fn Activity() -> impl IntoView {
    let clock = use_clock();
    let events = fetch_json::<Vec<SecurityEvent>>(
        || [paths::SECURITY_EVENTS, "?limit=50"].concat(),
        RwSignal::new(0),
    );
    let list = move || {
        match events.get() {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(e)) => view! { <p class="banner error" role="alert">{failure(&e)}</p> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! { <p>"Nothing yet."</p> }.into_any(),
        Some(Ok(list)) => view! {
            <ul class="sessions" data-testid="activity">
                {list.into_iter().map(|e| {
                    let at = time::parse_ms(&e.at);
                    let exact = at.map(time::local).unwrap_or_else(|| e.at.clone());
                    let relative = move || at.map(|ms| time::relative(ms, clock.now().wall_ms)).unwrap_or_default();
                    view! {
                        <li class="session" data-testid="event" data-kind=e.kind.clone()>
                            <div>
                                <span>{sentence(&e)}</span>
                                {e.current.then(|| view! { <span class="badge">"this device"</span> })}
                                <div class="hint">
                                    <time datetime=e.at.clone() title=exact>{move || relative()}</time>
                                    {e.address.map(|a| [" · ", &a].concat())}
                                </div>
                            </div>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any(),
    }
    };
    view! {
        <section class="card">
            <PageHeading title="Security activity"/>
            <p class="hint">"Sign-ins, sign-outs and anything unusual on your account, newest first."</p>
            {move || list()}
        </section>
    }
}

/// The dashboard's notice: the newest replayed-token event not shown before, shown once (the
/// server marks it shown when it hands it out).
#[component]
pub fn Notice() -> impl IntoView {
    let shown = RwSignal::new(None::<SecurityEvent>);
    let api = use_auth().api();
    leptos::task::spawn_local(async move {
        if let Ok(r) = api.send(Request::post(paths::SECURITY_NOTICE)).await {
            if r.status == 200 {
                shown.try_set(js::parse::<SecurityEvent>(&r.text()).ok());
            }
        }
    });
    // In `view!` as `{move || …}`, so that `erase_components` boxes it (a bare closure gets its
    // own copy of tachys' render code).
    view! {
        {move || shown.get().map(|e| view! {
            <div class="banner warn" role="alert" data-testid="security-notice">
                {sentence(&e)} " " <a href="/activity">"See your security activity"</a>
            </div>
        }).into_any()}
    }
}
