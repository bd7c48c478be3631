// tokenpair-client: WebAuthn ceremonies (passkeys) through navigator.credentials, with the
// browser's own JSON helpers (Chromium 129+, Firefox 119+, Safari 18+). See mod.rs.
let autofill = null; // the AbortController of the pending autofill (conditional) request

const supported = () => typeof PublicKeyCredential === 'function' && isSecureContext
  && !!PublicKeyCredential.parseRequestOptionsFromJSON && !!navigator.credentials;
// The options the server sent: `{"publicKey": {…}}` (or the inner object alone).
const inner = (json) => { const o = JSON.parse(json); return o.publicKey || o; };
// A rejection reaches Rust as "Name: message".
const fail = (e) => { throw e && e.name ? e.name + ': ' + e.message : String(e); };

export function passkeysSupported() { return supported(); }

export async function autofillSupported() {
  return supported() && !!PublicKeyCredential.isConditionalMediationAvailable
    && PublicKeyCredential.isConditionalMediationAvailable();
}

export function abortAutofill() {
  if (autofill) { autofill.abort(); autofill = null; }
}

export async function passkeyCreate(optionsJson) {
  try {
    abortAutofill();
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(inner(optionsJson));
    return JSON.stringify((await navigator.credentials.create({ publicKey })).toJSON());
  } catch (e) { fail(e); }
}

export async function passkeyGet(optionsJson, conditional) {
  try {
    abortAutofill();
    const request = { publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(inner(optionsJson)) };
    if (conditional) {
      autofill = new AbortController();
      request.mediation = 'conditional';
      request.signal = autofill.signal;
    }
    return JSON.stringify((await navigator.credentials.get(request)).toJSON());
  } catch (e) { fail(e); }
}
