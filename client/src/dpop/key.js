// tokenpair-client: the DPoP key (Ed25519, or ECDSA P-256, extractable: false) kept in IndexedDB, and
// proofs made with it. See mod.rs.
const STORE = 'keys', NAME = 'dpop';
const b64u = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const text = (s) => new TextEncoder().encode(s);
const sha256 = (s) => crypto.subtle.digest('SHA-256', text(s));

// An IndexedDB that never answers (it happens) must not hold the cross-tab lock: 5 s at most.
function open(db) {
  return new Promise((ok, no) => {
    setTimeout(no, 5000, 'TimeoutError: IndexedDB did not open');
    const r = indexedDB.open(db, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
}

function request(r) {
  return new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
}

// Where IndexedDB is unavailable: the pair lives in this page's memory only (a reload loses it).
const memory = new Map();
// Ed25519 where the browser has it (the server verifies it several times faster than P-256),
// ECDSA P-256 (ES256) elsewhere. Either way `extractable: false`.
const generate = () => crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])
  .catch(() => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']));

// A stored value is used only if it is what this code stores: a pair whose private key is a
// non-extractable CryptoKey (any other algorithm than ours fails to sign: an error, not a proof).
const usable = (p) => p && p.privateKey instanceof CryptoKey && !p.privateKey.extractable ? p : null;

// With `fresh` (a sign-in): a new pair, stored in place of any other — the sign-in holds the
// cross-tab lock, so no other tab is between its sign-in and its proofs. Otherwise the stored
// pair, or null. `kept` says whether it outlives the page. Where IndexedDB cannot be opened
// at a sign-in, the pair lives in this page's memory; later, a failure to open it is an error
// (retried), never "no key".
async function keyPair(db, fresh) {
  let d;
  try { d = await open(db); } catch (e) {
    if (fresh) memory.set(db, await generate());
    if (memory.has(db)) return { pair: memory.get(db), kept: false };
    if (typeof indexedDB === 'undefined') return null;
    throw e;
  }
  try {
    if (fresh) {
      const made = await generate();
      await request(d.transaction(STORE, 'readwrite').objectStore(STORE).put(made, NAME));
      return { pair: made, kept: true };
    }
    const found = usable(await request(d.transaction(STORE).objectStore(STORE).get(NAME)));
    return found ? { pair: found, kept: true } : null;
  } finally { d.close(); }
}

// Rejections reach Rust as plain text ("NotSupportedError: …").
const text_of = (e) => { throw e && e.name ? e.name + ': ' + e.message : String(e); };

export const dpopProof = (...args) => proof(...args).catch(text_of);
export const dpopForget = (db) => forget(db).catch(text_of);

async function proof(db, fresh, htm, htu, accessToken, nonce, iat) {
  // WebCrypto exists only in secure contexts (https, localhost): elsewhere, no proof.
  if (!globalThis.isSecureContext || !globalThis.crypto || !crypto.subtle) return null;
  const key = await keyPair(db, fresh);
  if (!key) return null;
  const { pair, kept } = key;
  const ed = pair.privateKey.algorithm.name === 'Ed25519';
  // The public members only (`y` is absent for Ed25519, and JSON.stringify leaves it out).
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const jwk = { crv, kty, x, y };
  const header = { typ: 'dpop+jwt', alg: ed ? 'EdDSA' : 'ES256', jwk };
  const claims = { jti: crypto.randomUUID(), htm, htu, iat };
  if (accessToken) claims.ath = b64u(await sha256(accessToken));
  if (nonce) claims.nonce = nonce;
  const input = b64u(text(JSON.stringify(header))) + '.' + b64u(text(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign(ed ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, text(input));
  // RFC 7638: the required members in lexicographic order (as `jwk` has them), no spaces.
  return { jwt: input + '.' + b64u(signature), jkt: b64u(await sha256(JSON.stringify(jwk))), kept };
}

async function forget(db) {
  memory.delete(db);
  let d;
  try { d = await open(db); } catch (_) { return; }
  try { await request(d.transaction(STORE, 'readwrite').objectStore(STORE).delete(NAME)); } finally { d.close(); }
}
