// tokenpair-client: WebAuthn ceremonies (passkeys) through navigator.credentials, with the
// browser's own JSON helpers (Chromium 129+, Firefox 119+, Safari 18+). See mod.rs.
let autofill = null; // the AbortController of the pending autofill (conditional) request

// An IP address is never a relying-party id: http://127.0.0.1 cannot use passkeys.
const supported = () => typeof PublicKeyCredential === 'function' && isSecureContext
  && !!PublicKeyCredential.parseRequestOptionsFromJSON && !!navigator.credentials
  && !/^[\d.]+$|^\[/.test(location.hostname);
// The options the server sent: `{"publicKey": {…}}` (or the inner object alone).
const inner = (json) => { const o = JSON.parse(json); return o.publicKey || o; };
// A rejection reaches Rust as "Name: message".
const fail = (e) => { throw e && e.name ? e.name + ': ' + e.message : String(e); };

async function autofillSupported() {
  return supported() && !!PublicKeyCredential.isConditionalMediationAvailable
    && PublicKeyCredential.isConditionalMediationAvailable();
}

function abortAutofill() {
  if (autofill) { autofill.abort(); autofill = null; }
  return null;
}

async function create(optionsJson) {
  try {
    abortAutofill();
    const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(inner(optionsJson));
    return JSON.stringify((await navigator.credentials.create({ publicKey })).toJSON());
  } catch (e) { fail(e); }
}

async function get(optionsJson, conditional) {
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

// The one entry point: an import with a string argument goes through wasm-bindgen's loader,
// which the release build's interface trimming expects (scripts/trim-wasm-interface.mjs).
export function passkey(op, optionsJson, conditional) {
  switch (op) {
    case 'supported': return supported();
    case 'autofill': return autofillSupported();
    case 'abort': return abortAutofill();
    case 'create': return create(optionsJson);
    default: return get(optionsJson, conditional);
  }
}
