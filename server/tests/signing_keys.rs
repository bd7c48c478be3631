//! Ed25519 access tokens anyone can verify (issue 12): the keys live in the database, the JWKS
//! publishes them, rotation keeps old tokens valid until they expire, and verification picks
//! the key by `kid` and the algorithm by the key.

mod common;

use std::time::Duration;

use sqlx::Row;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use common::*;
use jsonwebtoken::Algorithm;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokenpair_server::db::now_ms;
use tokenpair_server::tokens::key_store::{self, KeySchedule};
use tokenpair_server::tokens::keys::Ed25519Pair;

async fn ed25519_server() -> TestServer {
    start_with(|c| {
        c.tokens.access_token_secret = None;
        c.tokens.key_reload_every = Duration::from_millis(300);
    })
    .await
}

async fn jwks(server: &TestServer) -> (reqwest::header::HeaderMap, Value) {
    let r = server.get("/.well-known/jwks.json").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let headers = r.headers().clone();
    (headers, r.json().await.unwrap())
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn schedule(server: &TestServer) -> KeySchedule {
    KeySchedule::from_config(&server.config.tokens)
}

/// A token like the server's, signed with `pair` under the header `alg` given.
fn sign_as(pair: &Ed25519Pair, kid: &str, alg: &str, sid: &str) -> String {
    let header = json!({ "alg": alg, "typ": "at+jwt", "kid": kid });
    let claims = good_claims(sid, USER1_ID);
    let input = signing_input(&header, &claims);
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &pair.encoding_key(), Algorithm::EdDSA)
            .unwrap();
    format!("{input}.{signature}")
}

async fn current_pair(server: &TestServer) -> (Ed25519Pair, String) {
    let kid = server.state.tokens.kid().expect("a signing key");
    let keys = key_store::load(&server.state.db, &server.config.tokens.key_encryption)
        .await
        .unwrap();
    let key = keys.into_iter().find(|k| k.kid == kid).unwrap();
    (key.pair, kid)
}

#[tokio::test]
async fn without_a_secret_tokens_are_eddsa_and_the_jwks_publishes_exactly_the_public_keys() {
    let server = ed25519_server().await;
    let t = server.login(USER1).await;
    let header = header_of(&t.access);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let (headers, set) = jwks(&server).await;
    assert_eq!(
        headers["cache-control"].to_str().unwrap(),
        "public, max-age=600"
    );
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "the current key and the next one: {set}");
    for key in keys {
        let members: Vec<&str> = key
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut members = members;
        members.sort_unstable();
        assert_eq!(members, ["alg", "crv", "kid", "kty", "use", "x"], "{key}");
        assert_eq!(
            (
                key["kty"].as_str(),
                key["crv"].as_str(),
                key["use"].as_str(),
                key["alg"].as_str()
            ),
            (Some("OKP"), Some("Ed25519"), Some("sig"), Some("EdDSA"))
        );
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(key["x"].as_str().unwrap())
                .unwrap()
                .len(),
            32
        );
    }
    assert_eq!(
        kids(&set)[0],
        header["kid"].as_str().unwrap(),
        "the signing key first"
    );
    // No private member anywhere, nor the seed.
    let (pair, _) = current_pair(&server).await;
    let text = set.to_string();
    assert!(!text.contains("\"d\""));
    assert!(!text.contains(&URL_SAFE_NO_PAD.encode(pair.seed)));
    server.assert_access_works(&t.access, USER1_ID).await;
}

#[tokio::test]
async fn rfc_9864_ed25519_alg_name_is_accepted_on_verify() {
    let server = ed25519_server().await;
    let t = server.session(USER1_ID).await;
    let (pair, kid) = current_pair(&server).await;
    for alg in ["EdDSA", "Ed25519"] {
        let token = sign_as(&pair, &kid, alg, &t.sid);
        server.assert_access_works(&token, USER1_ID).await;
    }
}

#[tokio::test]
async fn an_hs256_token_forged_with_the_public_key_as_secret_is_refused() {
    let server = ed25519_server().await;
    let t = server.session(USER1_ID).await;
    let (pair, kid) = current_pair(&server).await;
    let header = json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid });
    let claims = good_claims(&t.sid, USER1_ID);
    for secret in [pair.public.to_vec(), pair.x().into_bytes()] {
        let forged = sign_hs256(&header, &claims, &secret);
        expect_invalid_token(server.me(&forged).await).await;
    }
    // … and an EdDSA signature by another key, or a `none` token, under our kid.
    let stranger = Ed25519Pair::generate();
    expect_invalid_token(server.me(&sign_as(&stranger, &kid, "EdDSA", &t.sid)).await).await;
    let none = format!(
        "{}.",
        signing_input(
            &json!({ "alg": "none", "typ": "at+jwt", "kid": kid }),
            &claims
        )
    );
    expect_invalid_token(server.me(&none).await).await;
    // An unknown kid, even with a valid signature by a key that is not ours.
    let unknown = sign_as(&stranger, "ed25519-0000000000000000", "EdDSA", &t.sid);
    let refused = expect_invalid_token(server.me(&unknown).await).await;
    assert!(
        refused.message.contains("unknown key"),
        "{}",
        refused.message
    );
}

#[tokio::test]
async fn in_hs256_mode_an_eddsa_header_under_the_secrets_kid_is_refused_and_the_jwks_is_empty() {
    let server = start().await;
    let t = server.session(USER1_ID).await;
    let pair = Ed25519Pair::generate();
    let token = sign_as(&pair, &kid(), "EdDSA", &t.sid);
    expect_invalid_token(server.me(&token).await).await;
    let (_, set) = jwks(&server).await;
    assert_eq!(set, json!({ "keys": [] }));
}

#[tokio::test]
async fn keys_and_tokens_survive_a_restart_and_are_shared_by_instances_on_the_database() {
    let server = ed25519_server().await;
    let t = server.login(USER1).await;
    let (_, before) = jwks(&server).await;
    let beside = start_beside(&server).await;
    assert_eq!(
        jwks(&beside).await.1,
        before,
        "the same keys on a second instance"
    );
    beside.assert_access_works(&t.access, USER1_ID).await;
    let server = server.restart().await;
    assert_eq!(
        jwks(&server).await.1,
        before,
        "the same keys after a restart"
    );
    server.assert_access_works(&t.access, USER1_ID).await;
}

#[tokio::test]
async fn a_rotation_makes_the_published_next_key_current_and_old_tokens_keep_working() {
    let server = ed25519_server().await;
    let old = server.login(USER1).await;
    let (_, set) = jwks(&server).await;
    let [current, next] = [kids(&set)[0].clone(), kids(&set)[1].clone()];
    assert_eq!(header_of(&old.access)["kid"], current.as_str());

    // What `tokenpair-server keys rotate` does, from another process's point of view.
    let rotated = key_store::rotate(&server.state.db, &schedule(&server), now_ms())
        .await
        .unwrap();
    assert_eq!(
        rotated.current, next,
        "the key published in advance signs now"
    );
    // The running server picks it up within its reload interval (300 ms here, 30 s by default).
    wait_for(
        "the running server to sign with the rotated key",
        || async { server.state.tokens.kid().as_deref() == Some(next.as_str()) },
    )
    .await;
    let new = server.login(USER1).await;
    assert_eq!(header_of(&new.access)["kid"], next.as_str());
    server.assert_access_works(&old.access, USER1_ID).await;
    server.assert_access_works(&new.access, USER1_ID).await;
    let (_, set) = jwks(&server).await;
    assert_eq!(
        kids(&set),
        [current.clone(), next.clone(), rotated.next.clone()]
    );
}

#[tokio::test]
async fn a_token_of_a_key_rotated_in_elsewhere_is_accepted_at_once_after_one_reload() {
    let server = start_with(|c| {
        c.tokens.access_token_secret = None;
        c.tokens.key_reload_every = Duration::from_secs(3600);
    })
    .await;
    let beside = start_beside(&server).await;
    key_store::rotate(&server.state.db, &schedule(&server), now_ms())
        .await
        .unwrap();
    server.state.tokens.reload().await.unwrap();
    let t = server.login(USER1).await;
    // `beside` has not reloaded (an hour), but an unknown kid makes it look once.
    beside.assert_access_works(&t.access, USER1_ID).await;
}

/// A key change reads the keys, then writes: another instance writing to the same database
/// meanwhile (here: sign-ins) must make it wait, not fail. On SQLite a plain `BEGIN` failed it
/// at once with "database is locked" (`SQLITE_BUSY_SNAPSHOT`) whenever the other write landed
/// between the read and the write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_while_another_instance_writes_waits_instead_of_failing() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::Arc;
    let server = ed25519_server().await;
    let beside = start_beside(&server).await;
    let schedule = schedule(&server);
    let signing_in_now = Arc::new(AtomicBool::new(false));
    let writing = Arc::new(AtomicBool::new(true));
    let signing_in = {
        let (signing_in_now, writing) = (signing_in_now.clone(), writing.clone());
        tokio::spawn(async move {
            while writing.load(SeqCst) {
                signing_in_now.store(true, SeqCst);
                beside.login(USER2).await;
                signing_in_now.store(false, SeqCst);
            }
        })
    };
    // Each rotation starts while a sign-in (which writes its session) is under way on the
    // other instance: counted, so the test cannot pass without the overlap it is about.
    let mut overlapped = 0;
    for _ in 0..10 {
        wait_for("a sign-in under way on the other instance", || async {
            signing_in_now.load(SeqCst)
        })
        .await;
        overlapped += usize::from(signing_in_now.load(SeqCst));
        key_store::rotate(&server.state.db, &schedule, now_ms())
            .await
            .expect("the rotation waits for the other instance's write, then succeeds");
        // `keys rotate` runs at distinct moments (two in one millisecond are not a case).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    writing.store(false, SeqCst);
    signing_in.await.unwrap();
    assert!(
        overlapped >= 8,
        "rotations that started during a sign-in: {overlapped} of 10"
    );
    // Each rotation published one new next key (none has retired yet): 2 + 10, in order.
    let keys = key_store::load(&server.state.db, &server.config.tokens.key_encryption)
        .await
        .unwrap();
    assert_eq!(keys.len(), 12, "{keys:?}");
    assert!(
        keys.windows(2)
            .all(|w| w[0].activates_at < w[1].activates_at),
        "one key per slot: {keys:?}"
    );
}

#[tokio::test]
async fn scheduled_rotation_and_retirement_follow_the_timeline() {
    let server = ed25519_server().await;
    let db = &server.state.db;
    let schedule = schedule(&server);
    let keys = key_store::load(db, &server.config.tokens.key_encryption)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    let (first, second) = (keys[0].clone(), keys[1].clone());
    assert!(
        second.activates_at - first.activates_at >= 30 * 86_400_000 - 1000,
        "the next key signs a rotation period later"
    );
    // The next key's time comes: it is current, and a new next key is published.
    let at = second.activates_at + 1;
    assert!(key_store::ensure(db, &schedule, at).await.unwrap());
    let statuses = schedule.statuses(
        &key_store::load(db, &server.config.tokens.key_encryption)
            .await
            .unwrap(),
        at,
    );
    let states: Vec<_> = statuses
        .iter()
        .map(|s| (s.key.kid.clone(), s.state))
        .collect();
    use key_store::KeyState::*;
    assert_eq!(states[0], (first.kid.clone(), Retired));
    assert_eq!(states[1], (second.kid.clone(), Current));
    assert_eq!(states[2].1, Next);
    // The retired key stays until its last token has expired (lifetime + 1 min), then goes.
    let expiry = second.activates_at + schedule.token_lifetime.as_millis() as i64 + 60_000;
    assert!(!key_store::ensure(db, &schedule, expiry - 1).await.unwrap());
    assert!(key_store::ensure(db, &schedule, expiry + 1).await.unwrap());
    let left: Vec<String> = key_store::load(db, &server.config.tokens.key_encryption)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert!(!left.contains(&first.kid), "{left:?}");
    assert_eq!(left.len(), 2);
}

#[tokio::test]
async fn the_keys_command_lists_and_rotates_and_refuses_in_hs256_mode() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let bin = env!("CARGO_BIN_EXE_tokenpair-server");
    let run = |args: &[&str], secret: Option<&str>| {
        let mut cmd = std::process::Command::new(bin);
        cmd.env_clear()
            .env(
                "SIGNING_KEY_ENCRYPTION_KEY",
                "a-key-encryption-key-of-at-least-32-bytes",
            )
            .args(["--database-url", &url])
            .args(args);
        if let Some(s) = secret {
            cmd.env("ACCESS_TOKEN_SECRET", s);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, _) = run(&["keys", "list"], None);
    assert!(ok);
    assert!(out.contains("no signing keys yet"), "{out}");
    let (ok, out, err) = run(&["keys", "rotate"], None);
    assert!(ok, "{err}");
    assert!(out.contains("rotated:"), "{out}");
    let (ok, out, _) = run(&["keys", "list"], None);
    assert!(ok);
    for state in ["retired", "current", "next"] {
        assert!(out.contains(state), "{state}: {out}");
    }
    let (ok, _, err) = run(&["keys", "rotate"], Some(&"s".repeat(40)));
    assert!(!ok);
    assert!(err.contains("ACCESS_TOKEN_SECRET is set"), "{err}");
}

#[tokio::test]
async fn an_ed25519_private_key_never_appears_in_a_debug_print() {
    let pair = Ed25519Pair::generate();
    let printed = format!("{pair:?}");
    assert!(!printed.contains(&URL_SAFE_NO_PAD.encode(pair.seed)));
    assert!(
        printed.contains("ed25519-"),
        "it names the key by its kid: {printed}"
    );
}

/// The file itself is SQLite's alone (the PostgreSQL pass skips `sqlite_file::`; there,
/// access to the keys is the database role's).
#[cfg(unix)]
mod sqlite_file {
    use super::*;

    #[tokio::test]
    async fn the_sqlite_file_that_holds_the_private_keys_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let server = ed25519_server().await;
        let path = server
            .sqlite_path()
            .expect("an SQLite run (the PostgreSQL pass skips sqlite_file::)");
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
}

mod key_encryption {
    use super::*;
    use tokenpair_server::key_encryption::{Kek, KeyEncryption};
    use tokenpair_server::AppState;

    fn kek(secret: &str) -> Option<Kek> {
        Some(Kek::from_secret(secret.as_bytes()))
    }

    const K1: &str = "first-key-encryption-key-32-bytes-long";
    const K2: &str = "second-key-encryption-key-32-bytes-long";

    async fn stored_private_keys(server: &TestServer) -> Vec<Vec<u8>> {
        sqlx::query("SELECT private_key FROM signing_keys")
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<Vec<u8>, _>(0).unwrap())
            .collect()
    }

    /// Why the server refuses to start with these keys, if it does.
    async fn start_refused(config: tokenpair_server::Config) -> Option<String> {
        match AppState::new(config).await {
            Ok(state) => {
                state.db.close().await;
                None
            }
            Err(e) => Some(e.to_string()),
        }
    }

    #[tokio::test]
    async fn with_a_key_encryption_key_no_private_key_is_in_the_database_in_the_clear() {
        let server = start_with(|c| {
            c.tokens.access_token_secret = None;
            c.tokens.key_encryption = KeyEncryption {
                current: kek(K1),
                previous: None,
            };
        })
        .await;
        let t = server.login(USER1).await;
        server.assert_access_works(&t.access, USER1_ID).await;
        let stored = stored_private_keys(&server).await;
        assert_eq!(stored.len(), 2, "current and next");
        for s in &stored {
            assert_ne!(s.len(), 32, "a raw seed in the table");
            assert!(s.starts_with(b"tpk1"), "sealed");
        }
        // The database alone (no KEK, or another one) opens nothing: the server refuses.
        let (mut config, _dir) = server.stop().await;
        config.tokens.key_encryption = KeyEncryption::default();
        let why = start_refused(config.clone())
            .await
            .expect("refused without the KEK");
        assert!(why.contains("SIGNING_KEY_ENCRYPTION_KEY"), "{why}");
        config.tokens.key_encryption.current = kek(K2);
        let why = start_refused(config)
            .await
            .expect("refused with another KEK");
        assert!(why.contains("was not given"), "{why}");
    }

    #[tokio::test]
    async fn rotating_the_key_encryption_key_reseals_every_key_and_keeps_every_token() {
        let server = start_with(|c| {
            c.tokens.access_token_secret = None;
            c.tokens.key_encryption.current = kek(K1);
        })
        .await;
        let t = server.login(USER1).await;
        let before = stored_private_keys(&server).await;
        // New KEK, old one as previous: every key is sealed again under the new one.
        let server = server
            .restart_with(|c| {
                c.tokens.key_encryption = KeyEncryption {
                    current: kek(K2),
                    previous: kek(K1),
                }
            })
            .await;
        server.assert_access_works(&t.access, USER1_ID).await;
        let after = stored_private_keys(&server).await;
        assert_eq!(after.len(), before.len());
        assert!(after.iter().all(|s| !before.contains(s)), "re-sealed");
        // The old KEK can go now; it opens nothing any more.
        let server = server
            .restart_with(|c| c.tokens.key_encryption.previous = None)
            .await;
        server.assert_access_works(&t.access, USER1_ID).await;
        let (mut config, _dir) = server.stop().await;
        config.tokens.key_encryption = KeyEncryption {
            current: kek(K1),
            previous: None,
        };
        assert!(
            start_refused(config).await.is_some(),
            "K1 no longer opens the keys"
        );
    }

    #[tokio::test]
    async fn plain_keys_from_demo_mode_are_sealed_at_the_first_start_with_a_key_encryption_key() {
        let server = start_with(|c| c.tokens.access_token_secret = None).await;
        assert!(stored_private_keys(&server)
            .await
            .iter()
            .all(|s| s.len() == 32));
        let t = server.login(USER1).await;
        let server = server
            .restart_with(|c| c.tokens.key_encryption.current = kek(K1))
            .await;
        assert!(stored_private_keys(&server)
            .await
            .iter()
            .all(|s| s.starts_with(b"tpk1")));
        server.assert_access_works(&t.access, USER1_ID).await;
    }
}
