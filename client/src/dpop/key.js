// tokenpair-client: the DPoP key (ECDSA P-256, extractable: false) kept in IndexedDB, and
// proofs made with it. See mod.rs.
const STORE = 'keys', NAME = 'dpop';
const b64u = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const text = (s) => new TextEncoder().encode(s);
const sha256 = (s) => crypto.subtle.digest('SHA-256', text(s));

function open(db) {
  return new Promise((ok, no) => {
    const r = indexedDB.open(db, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE);
    r.onsuccess = () => ok(r.result);
    r.onerror = () => no(r.error);
  });
}

function request(r) {
  return new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
}

async function keyPair(db) {
  const d = await open(db);
  try {
    const found = await request(d.transaction(STORE).objectStore(STORE).get(NAME));
    if (found) return found;
    const made = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    // `add`, not `put`: of two tabs making one at the same moment, the first stored wins.
    try { await request(d.transaction(STORE, 'readwrite').objectStore(STORE).add(made, NAME)); } catch (_) {}
    return await request(d.transaction(STORE).objectStore(STORE).get(NAME));
  } finally { d.close(); }
}

export async function dpopProof(db, htm, htu, accessToken, nonce) {
  const pair = await keyPair(db);
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const jwk = { crv, kty, x, y };
  const header = { typ: 'dpop+jwt', alg: 'ES256', jwk };
  const claims = { jti: crypto.randomUUID(), htm, htu, iat: Math.floor(Date.now() / 1000) };
  if (accessToken) claims.ath = b64u(await sha256(accessToken));
  if (nonce) claims.nonce = nonce;
  const input = b64u(text(JSON.stringify(header))) + '.' + b64u(text(JSON.stringify(claims)));
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, text(input));
  // RFC 7638: the required members in lexicographic order, no spaces.
  const jkt = b64u(await sha256(JSON.stringify({ crv, kty, x, y })));
  return { jwt: input + '.' + b64u(signature), jkt };
}

export async function dpopForget(db) {
  const d = await open(db);
  try { await request(d.transaction(STORE, 'readwrite').objectStore(STORE).delete(NAME)); } finally { d.close(); }
}
