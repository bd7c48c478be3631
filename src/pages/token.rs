//! `/token` — the token inspector: the access token split like a JWT debugger (the signature
//! masked until revealed: a screenshot of a whole token is a working bearer token), its
//! claims, a live countdown, and the timeline of what the tokens did.

use leptos::prelude::*;

use crate::components::page_heading::PageHeading;
use crate::context::{use_auth, use_clock};
use crate::jwt;
use crate::time;

const CLAIMS: [(&str, &str); 7] = [
    ("iss", "issuer: who made the token"),
    ("aud", "audience: which API accepts it"),
    ("sub", "subject: the user id"),
    ("sid", "session: the refresh-token family it belongs to"),
    ("jti", "token id: unique per token"),
    ("iat", "issued at"),
    ("exp", "expires at"),
];

#[component]
pub fn TokenInspector() -> impl IntoView {
    let store = use_auth().store();
    let clock = use_clock();
    let token = move || store.token();
    let decoded = move || token().and_then(|t| jwt::decode(t.bearer()));
    let remaining = move || token().map(|t| t.remaining_secs(&clock.now()));
    let revealed = RwSignal::new(false);

    view! {
        <section class="card">
            <PageHeading title="Token inspector"/>
            <p class="countdown" data-testid="countdown">
                {move || match remaining() {
                    Some(s) if s > 0 => format!("The access token expires in {s} s"),
                    Some(_) => "The access token has expired: the next request refreshes it".into(),
                    None => "No access token".into(),
                }}
            </p>
            {move || decoded().map(|d| { let signature = d.signature_b64.clone(); view! {
                <div class="jwt" data-testid="jwt">
                    <span class="jwt-header">{d.header_b64.clone()}</span>"."
                    <span class="jwt-payload">{d.payload_b64.clone()}</span>"."
                    <span class=move || if revealed.get() { "jwt-signature" } else { "jwt-signature masked" }
                        data-testid="jwt-signature">
                        {move || if revealed.get() { signature.clone() } else { "•••••••• (signature hidden)".to_owned() }}
                    </span>
                </div>
                <button class="secondary" data-testid="reveal-signature" aria-pressed=move || Some(if revealed.get() { "true" } else { "false" })
                    on:click=move |_| revealed.update(|r| *r = !*r)>
                    {move || String::from(if revealed.get() { "Hide the signature" } else { "Reveal the signature" })}
                </button>
                <p class="hint">"With its signature the token is a working credential until it expires: don't share a screenshot of it."</p>
                <div class="grid2">
                    <div><h2>"Header"</h2><pre data-testid="jwt-header">{d.header.clone()}</pre></div>
                    <div><h2>"Payload"</h2><pre data-testid="jwt-payload">{d.payload.clone()}</pre></div>
                </div>
                <table class="claims" data-testid="claims">
                    <thead><tr><th scope="col">"Claim"</th><th scope="col">"Value"</th><th scope="col">"Meaning"</th></tr></thead>
                    <tbody>
                        {CLAIMS.iter().map(|(name, meaning)| {
                            let value = d.claim(name).unwrap_or_default().to_owned();
                            // Unix seconds, with the local date and time next to them.
                            let readable = matches!(*name, "iat" | "exp")
                                .then(|| value.parse::<u64>().ok())
                                .flatten()
                                .map(|secs| time::local(secs as f64 * 1000.0));
                            view! {
                                <tr>
                                    <th scope="row"><code>{*name}</code></th>
                                    <td data-label="Value">
                                        <code class="value">{value}</code>
                                        {readable.map(|r| view! { <span class="readable" data-testid=local_testid(name)>{r}</span> })}
                                    </td>
                                    <td data-label="Meaning">{*meaning}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <h2>"Bound to this browser"</h2>
                <p class="bound" data-testid="cnf-jkt">{bound_to(d.bound_key())}</p>
                <Signing alg=d.header_text("alg").unwrap_or("?").to_owned() kid=d.header_text("kid").unwrap_or("?").to_owned()/>
            }}).into_any()}
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
                    let now = clock.now().wall_ms;
                    store.timeline().into_iter().rev().map(|e| view! {
                        <li data-kind=e.kind.label()>
                            <span class="when">{format!("{} s ago", ((now - e.at_ms).max(0.0) / 1000.0) as u64)}</span>
                            <strong>{e.kind.label()}</strong>
                            <span>{e.detail}</span>
                        </li>
                    }).collect_view().into_any()
                }}
            </ol>
        </section>
    }
}

/// What `cnf.jkt` means for this token, in one sentence (sender-constraining, RFC 9449).
fn bound_to(jkt: Option<String>) -> String {
    match jkt {
        Some(jkt) => [
            "Sender-constrained (DPoP): cnf.jkt = ",
            &jkt,
            " — the server accepts it only with a fresh proof signed by this browser's key, \
             which cannot be exported: a copy of the token alone is useless.",
        ]
        .concat(),
        None => "A bearer token: whoever holds a copy can use it until it expires.".into(),
    }
}

/// `claim-iat-local` / `claim-exp-local`: the local time shown next to a timestamp claim.
fn local_testid(claim: &str) -> &'static str {
    if claim == "iat" {
        "claim-iat-local"
    } else {
        "claim-exp-local"
    }
}

/// Which algorithm and key signed the token, and who can verify it.
#[component]
fn Signing(alg: String, kid: String) -> impl IntoView {
    let public = alg == "EdDSA" || alg == "Ed25519";
    view! {
        <p class="signing" data-testid="jwt-signing">
            "Signed with " <code data-testid="jwt-alg">{alg}</code>
            {if public { " (Ed25519)" } else { " (HMAC with the server's secret)" }}
            " by the key " <code data-testid="jwt-kid">{kid}</code> ". "
            {if public {
                "Any service can verify it with the server's public keys: "
            } else {
                "Only holders of the secret can verify it; the public key set is empty in this mode: "
            }}
            <a href="/.well-known/jwks.json" rel="external" target="_blank" data-testid="jwks-link">"/.well-known/jwks.json"</a>
            ". This page decodes the token; it does not verify it."
        </p>
    }
}
