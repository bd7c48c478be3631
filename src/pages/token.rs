//! `/token` — the token inspector: the access token split like a JWT debugger, its claims, a
//! live countdown, and the timeline of what the tokens did.

use leptos::prelude::*;

use crate::app::{use_clock, use_session};
use crate::jwt;
use crate::session::now_ms;

const CLAIMS: [(&str, &str); 7] = [
    ("iss", "issuer: who made the token"),
    ("aud", "audience: which API accepts it"),
    ("sub", "subject: the user id"),
    ("sid", "session: the refresh-token family it belongs to"),
    ("jti", "token id: unique per token"),
    ("iat", "issued at (Unix seconds)"),
    ("exp", "expires at (Unix seconds)"),
];

#[component]
pub fn TokenInspector() -> impl IntoView {
    let session = use_session();
    let clock = use_clock();
    let token = move || session.token();
    let decoded = move || token().and_then(|t| jwt::decode(&t.token));
    let remaining = move || token().map(|t| t.remaining_secs(clock.0.get()));

    view! {
        <section class="card">
            <h1>"Token inspector"</h1>
            <p class="countdown" data-testid="countdown">
                {move || match remaining() {
                    Some(s) if s > 0 => format!("The access token expires in {s} s"),
                    Some(_) => "The access token has expired: the next request refreshes it".into(),
                    None => "No access token".into(),
                }}
            </p>
            {move || decoded().map(|d| view! {
                <div class="jwt" data-testid="jwt">
                    <span class="jwt-header">{d.header_b64.clone()}</span>"."
                    <span class="jwt-payload">{d.payload_b64.clone()}</span>"."
                    <span class="jwt-signature">{d.signature_b64.clone()}</span>
                </div>
                <div class="grid2">
                    <div><h2>"Header"</h2><pre data-testid="jwt-header">{d.header.clone()}</pre></div>
                    <div><h2>"Payload"</h2><pre data-testid="jwt-payload">{d.payload.clone()}</pre></div>
                </div>
                <table class="claims">
                    <thead><tr><th>"Claim"</th><th>"Value"</th><th>"Meaning"</th></tr></thead>
                    <tbody>
                        {CLAIMS.iter().map(|(name, meaning)| view! {
                            <tr><td><code>{*name}</code></td><td>{d.claim(name).unwrap_or_default().to_owned()}</td><td>{*meaning}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="hint">"The signature (HMAC-SHA256) is checked by the server only; this page decodes, it does not verify."</p>
            })}
            <h2>"Where is the refresh token?"</h2>
            <p>
                "Deliberately invisible. It lives in an " <code>"HttpOnly; Secure; SameSite=Strict; Path=/api/auth"</code>
                " cookie that JavaScript — this app, or an attacker's injected script — cannot read. The browser sends it only to "
                <code>"/api/auth/*"</code> ", and the server rotates it on every refresh."
            </p>
        </section>
        <section class="card">
            <h2>"Timeline"</h2>
            <ol class="timeline" data-testid="timeline">
                {move || {
                    let now = now_ms();
                    session.timeline().into_iter().rev().map(|e| view! {
                        <li data-kind=e.kind.label()>
                            <span class="when">{format!("{} s ago", ((now - e.at_ms).max(0.0) / 1000.0) as u64)}</span>
                            <strong>{e.kind.label()}</strong>
                            <span>{e.detail}</span>
                        </li>
                    }).collect_view()
                }}
            </ol>
        </section>
    }
}
