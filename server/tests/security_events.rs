//! Security activity (issue 23): every event kind is produced by its real trigger and shown to
//! the account's owner at `GET /api/security-events` (paginated like the sessions list); an
//! event commits with the change it records or neither does; retention and the per-user bound
//! keep the table small; the address policy decides what is kept — on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::*;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use tokenpair_server::clock::Timestamp;
use tokenpair_server::db::{now_ms, Backend};
use tokenpair_server::maintenance::prune;
use tokenpair_server::security_events::{AddressPolicy, EventPolicy};
use tokenpair_server::sessions::store::ENDED_RETENTION_MS;

const FIREFOX_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

/// The caller's events, newest first (one page of up to 100).
async fn events(server: &TestServer, access: &str) -> Vec<Value> {
    let response = server
        .get_bearer("/api/security-events?limit=100", access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    response.json().await.unwrap()
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

/// The newest event of `kind`, which must exist.
fn newest<'a>(events: &'a [Value], kind: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} event in {events:#?}"))
}

/// Every stored event, whoever it belongs to (kind, user, detail).
async fn all_rows(server: &TestServer) -> Vec<(String, Option<i64>, Option<String>)> {
    use sqlx::Row;
    server
        .db()
        .rows(
            "SELECT kind, user_id, detail FROM security_events ORDER BY id",
            None,
        )
        .await
        .iter()
        .map(|r| {
            (
                r.try_get("kind").unwrap(),
                r.try_get("user_id").unwrap(),
                r.try_get("detail").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_sign_in_and_a_wrong_password_are_recorded_for_the_account_and_an_unknown_name_is_not() {
    let server = start().await;
    let wrong = server.try_login("user1", "not-the-password").await;
    expect_error(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let unknown = server.try_login("nobody-here", "whatever-password").await;
    expect_error(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let tokens = server.login(USER1).await;
    // A failure is recorded just after its answer (the answer does not wait for the write).
    wait_for("the failure recorded", || async {
        all_rows(&server)
            .await
            .iter()
            .any(|(k, ..)| k == "sign_in_failed")
    })
    .await;

    let list = events(&server, &tokens.access).await;
    assert_eq!(
        kinds(&list),
        ["signed_in", "sign_in_failed", "account_created"],
        "{list:#?}"
    );
    let signed_in = &list[0];
    assert_eq!(signed_in["session_id"], json!(tokens.sid));
    assert_eq!(signed_in["current"], json!(true), "this device is marked");
    assert_eq!(
        signed_in["address"],
        json!("127.0.0.0/24"),
        "truncated by default"
    );
    assert_eq!(list[1]["detail"], json!("wrong_password"));
    assert_eq!(list[1]["current"], json!(false));
    assert!(
        all_rows(&server)
            .await
            .iter()
            .all(|(_, user, _)| user.is_some()),
        "a failure at an unknown name is logged, never stored"
    );
}

#[tokio::test]
async fn registering_records_the_new_account_and_its_first_sign_in() {
    let server = start().await;
    let registered = granted(
        server.try_register("carol", "carols-password").await,
        StatusCode::CREATED,
    )
    .await
    .tokens;
    let list = events(&server, &registered.access).await;
    let mut got = kinds(&list);
    got.sort_unstable();
    assert_eq!(got, ["account_created", "signed_in"], "{list:#?}");
}

#[tokio::test]
async fn signing_out_here_and_everywhere_are_recorded() {
    let server = start().await;
    let here = server.session(USER1_ID).await;
    let other = server.session(USER1_ID).await;
    // A third session, live until the global sign-out: two end there.
    server.session(USER1_ID).await;
    assert_eq!(
        server.logout(&here.refresh).await.status(),
        StatusCode::NO_CONTENT
    );
    let everywhere = server.logout_everywhere(&other.refresh).await;
    assert_eq!(everywhere.status(), StatusCode::NO_CONTENT);

    let viewer = server.session(USER1_ID).await;
    let list = events(&server, &viewer.access).await;
    assert_eq!(newest(&list, "signed_out")["session_id"], json!(here.sid));
    let global = newest(&list, "signed_out_everywhere");
    assert_eq!(global["session_id"], json!(other.sid));
    assert_eq!(
        global["detail"],
        json!("2"),
        "the two sessions still live: {list:#?}"
    );
}

#[tokio::test]
async fn ending_a_session_from_the_list_and_signing_in_over_an_old_cookie_are_recorded() {
    let server = start().await;
    let phone = server.session(USER1_ID).await;
    let laptop = server.session(USER1_ID).await;
    let deleted = server
        .client
        .delete(server.url(&format!("/api/sessions/{}", phone.sid)))
        .bearer_auth(&laptop.access)
        .header(header::USER_AGENT, FIREFOX_ON_LINUX)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let again = server
        .login_from(
            &server.client,
            USER1,
            Some(&format!("__Secure-refresh_token={}", laptop.refresh)),
        )
        .await;
    let again = granted(again, StatusCode::OK).await.tokens;

    let list = events(&server, &again.access).await;
    let revoked = newest(&list, "session_revoked");
    assert_eq!(revoked["session_id"], json!(phone.sid));
    assert_eq!(revoked["device"], json!("Firefox on Linux"), "who ended it");
    assert_eq!(
        newest(&list, "session_replaced")["session_id"],
        json!(laptop.sid)
    );
}

#[tokio::test]
async fn a_replayed_refresh_token_is_recorded_with_the_device_that_replayed_it() {
    let server = start().await;
    let first = server.session(USER1_ID).await;
    // Two generations on: the first token is past any grace.
    let second = server.refresh_ok(&first.refresh).await;
    server.refresh_ok(&second.refresh).await;
    let replay = server
        .auth_post("/api/auth/refresh")
        .header(
            header::COOKIE,
            format!("__Secure-refresh_token={}", first.refresh),
        )
        .header(header::USER_AGENT, FIREFOX_ON_LINUX)
        .send()
        .await
        .unwrap();
    expect_refresh_refused(replay, "refresh_token_reused").await;

    let viewer = server.session(USER1_ID).await;
    let list = events(&server, &viewer.access).await;
    let reused = newest(&list, "refresh_token_reused");
    assert_eq!(reused["session_id"], json!(first.sid));
    assert_eq!(reused["device"], json!("Firefox on Linux"));
    assert_eq!(reused["address"], json!("127.0.0.0/24"));

    // The dashboard's notice: this event, once.
    let notice = || {
        server
            .client
            .post(server.url("/api/security-events/notice"))
            .bearer_auth(&viewer.access)
            .send()
    };
    let first_time = notice().await.unwrap();
    assert_eq!(first_time.status(), StatusCode::OK);
    let shown: Value = first_time.json().await.unwrap();
    assert_eq!(shown["id"], reused["id"]);
    assert_eq!(
        notice().await.unwrap().status(),
        StatusCode::NO_CONTENT,
        "shown once"
    );
}

#[tokio::test]
async fn without_an_alarming_event_there_is_no_notice() {
    let server = start().await;
    let tokens = server.session(USER1_ID).await;
    let r = server
        .client
        .post(server.url("/api/security-events/notice"))
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn a_session_evicted_by_the_cap_is_recorded() {
    let server = start_with(|c| c.sessions.max_per_user = 1).await;
    let old = server.session(USER1_ID).await;
    let new = server.session(USER1_ID).await;
    let list = events(&server, &new.access).await;
    assert_eq!(
        newest(&list, "session_evicted")["session_id"],
        json!(old.sid)
    );
}

#[tokio::test]
async fn an_idle_session_deleted_by_the_prune_job_is_recorded_as_expired_when_it_lapsed() {
    let server =
        start_with(|c| c.sessions.refresh_token_idle_timeout = Duration::from_secs(3600)).await;
    let idle = server.session(USER1_ID).await;
    let lapsed_by = now_ms() + 3600 * 1000;
    // The prune deletes an ended session a day after it ended.
    let later = lapsed_by + ENDED_RETENTION_MS + 60_000;
    prune(&server.state, Timestamp(later)).await.unwrap();
    assert_eq!(server.generation(&idle.sid).await, None, "deleted");
    let rows = all_rows(&server).await;
    assert!(
        rows.contains(&(
            "session_expired".into(),
            Some(USER1_ID),
            Some("idle".into())
        )),
        "{rows:?}"
    );
    let at = server
        .db()
        .int(
            "SELECT at FROM security_events WHERE kind = 'session_expired'",
            None,
        )
        .await;
    assert!(
        at <= lapsed_by,
        "dated when it lapsed, not when it was found"
    );
}

#[tokio::test]
async fn a_session_past_its_absolute_end_is_recorded_as_expired_at_its_refresh() {
    let server = start_with(|c| {
        c.sessions.refresh_token_expiry = Duration::from_secs(2);
        c.tokens.access_token_expiry = Duration::from_secs(1);
    })
    .await;
    let short = server.session(USER1_ID).await;
    tokio::time::sleep(Duration::from_millis(2200)).await;
    expect_refresh_refused(server.refresh(&short.refresh).await, "session_expired").await;
    let rows = all_rows(&server).await;
    assert!(
        rows.contains(&(
            "session_expired".into(),
            Some(USER1_ID),
            Some("absolute".into())
        )),
        "{rows:?}"
    );
}

#[tokio::test]
async fn repeated_wrong_passwords_record_one_block_for_the_account() {
    let server = start().await;
    for _ in 0..5 {
        let r = server.try_login("user1", "wrong-password-x").await;
        expect_error(r, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let blocked = server.try_login("user1", "wrong-password-x").await;
    expect_error(blocked, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    let rows = all_rows(&server).await;
    let blocks: Vec<_> = rows
        .iter()
        .filter(|(k, ..)| k == "sign_in_blocked")
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "one event for the block, none per refusal: {rows:?}"
    );
    let detail = blocks[0].2.as_deref().unwrap();
    assert!(
        detail.starts_with("account_from_address until="),
        "{detail}"
    );
    assert_eq!(blocks[0].1, Some(USER1_ID));
    wait_for("the five failures recorded after their answers", || async {
        all_rows(&server)
            .await
            .iter()
            .filter(|(k, ..)| k == "sign_in_failed")
            .count()
            == 5
    })
    .await;
}

#[tokio::test]
async fn a_block_lifted_by_the_right_password_leaves_no_event() {
    let server = start().await;
    // The fifth attempt from one address sets the account-from-address block; when it is the
    // right password, the block is lifted — and so is its event.
    for _ in 0..4 {
        let r = server.try_login("user1", "wrong-password-x").await;
        expect_error(r, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }
    let tokens = server.login(USER1).await;
    let list = events(&server, &tokens.access).await;
    assert!(
        !kinds(&list).contains(&"sign_in_blocked"),
        "nothing was paused: {list:#?}"
    );
    wait_for("the four failures recorded after their answers", || async {
        all_rows(&server)
            .await
            .iter()
            .filter(|(k, ..)| k == "sign_in_failed")
            .count()
            == 4
    })
    .await;
}

#[tokio::test]
async fn rotating_the_signing_key_is_recorded_as_a_deployment_event() {
    use tokenpair_server::tokens::key_store::{self, KeySchedule};
    let server = start_with(|c| c.tokens.access_token_secret = None).await;
    let rotated = key_store::rotate(
        &server.state.db,
        &KeySchedule::from_config(&server.config.tokens),
        now_ms(),
    )
    .await
    .unwrap();
    let rows = all_rows(&server).await;
    let expected = format!("current={} next={}", rotated.current, rotated.next);
    assert!(
        rows.contains(&("signing_key_rotated".into(), None, Some(expected))),
        "{rows:?}"
    );
}

/// Makes every insert of a `kind` event fail inside the database, as a full disk or a lost
/// connection would at that moment.
async fn fail_inserts_of(server: &TestServer, kind: &str) {
    let statements = match server.state.db.backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER fail_event BEFORE INSERT ON security_events
             WHEN NEW.kind = '{kind}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        )],
        Backend::Postgres => vec![
            "CREATE FUNCTION fail_event() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
                .to_owned(),
            format!(
                "CREATE TRIGGER fail_event BEFORE INSERT ON security_events
                 FOR EACH ROW WHEN (NEW.kind = '{kind}') EXECUTE FUNCTION fail_event()"
            ),
        ],
    };
    for sql in statements {
        sqlx::query(&sql)
            .execute(&server.state.db.pool)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_sign_out_whose_event_cannot_be_written_ends_nothing() {
    let server = start().await;
    let tokens = server.session(USER1_ID).await;
    fail_inserts_of(&server, "signed_out").await;
    let failed = server.logout(&tokens.refresh).await;
    expect_error(failed, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
    assert_eq!(server.revoked_reason(&tokens.sid).await, None, "still live");
    server.assert_access_works(&tokens.access, USER1_ID).await;
    server.refresh_ok(&tokens.refresh).await;
}

#[tokio::test]
async fn a_detected_reuse_whose_event_cannot_be_written_revokes_nothing() {
    let server = start().await;
    let first = server.session(USER1_ID).await;
    let second = server.refresh_ok(&first.refresh).await;
    let third = server.refresh_ok(&second.refresh).await;
    fail_inserts_of(&server, "refresh_token_reused").await;
    let replay = server.refresh(&first.refresh).await;
    expect_error(replay, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
    assert_eq!(server.revoked_reason(&first.sid).await, None);
    server.refresh_ok(&third.refresh).await;
    let rows = all_rows(&server).await;
    assert!(
        !rows.iter().any(|(k, ..)| k == "refresh_token_reused"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn the_activity_comes_in_pages_linked_by_rel_next_and_shows_only_the_callers_events() {
    let server = start().await;
    for _ in 0..4 {
        server.session(USER1_ID).await;
    }
    server.session(USER2_ID).await;
    let viewer = server.session(USER1_ID).await;

    let mut seen = Vec::new();
    let mut url = "/api/security-events?limit=2".to_owned();
    loop {
        let r = server
            .get_bearer(&url, &viewer.access)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let link = r
            .headers()
            .get(header::LINK)
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<Value> = r.json().await.unwrap();
        assert!(page.len() <= 2);
        seen.extend(page);
        let Some(link) = link else { break };
        assert!(link.ends_with("; rel=\"next\""), "{link}");
        url = link[1..link.find('>').unwrap()].to_owned();
        assert!(
            url.starts_with("/api/security-events?limit=2&cursor="),
            "{url}"
        );
    }
    assert_eq!(
        seen.len(),
        6,
        "the account's creation and five sign-ins of user1: {seen:#?}"
    );
    let ids: Vec<i64> = seen
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let mut newest_first = ids.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, newest_first);

    let bad = server
        .get_bearer("/api/security-events?cursor=nonsense", &viewer.access)
        .send()
        .await
        .unwrap();
    expect_error(bad, StatusCode::BAD_REQUEST, "bad_request").await;
    let anonymous = server.get("/api/security-events").send().await.unwrap();
    expect_invalid_token(anonymous).await;
}

#[tokio::test]
async fn the_prune_job_drops_events_past_their_retention() {
    let server = start_with(|c| {
        c.security_events.retention = Duration::from_secs(3600);
    })
    .await;
    server.session(USER1_ID).await;
    let before = server
        .db()
        .count("SELECT COUNT(*) FROM security_events")
        .await;
    assert_eq!(before, 3, "the two demo accounts' creation, one sign-in");
    prune(&server.state, Timestamp(now_ms() + 1800 * 1000))
        .await
        .unwrap();
    let kept = server
        .db()
        .count("SELECT COUNT(*) FROM security_events")
        .await;
    assert_eq!(kept, 3, "within the retention: kept");
    prune(&server.state, Timestamp(now_ms() + 3700 * 1000))
        .await
        .unwrap();
    let rows = all_rows(&server).await;
    assert!(rows.is_empty(), "past the retention: gone: {rows:?}");
}

#[tokio::test]
async fn a_flood_keeps_at_most_the_per_user_bound_the_newest_ones() {
    let server = start_with(|c| {
        c.security_events = EventPolicy {
            max_per_user: 5,
            ..EventPolicy::default()
        };
    })
    .await;
    for _ in 0..12 {
        server.session(USER1_ID).await;
    }
    server.session(USER2_ID).await;
    let newest_ids = server
        .db()
        .rows(
            "SELECT id FROM security_events WHERE user_id = 1 ORDER BY id DESC LIMIT 5",
            None,
        )
        .await
        .len();
    assert_eq!(newest_ids, 5);
    prune(&server.state, Timestamp(now_ms())).await.unwrap();
    let user1 = server
        .db()
        .count("SELECT COUNT(*) FROM security_events WHERE user_id = 1")
        .await;
    let user2 = server
        .db()
        .count("SELECT COUNT(*) FROM security_events WHERE user_id = 2")
        .await;
    assert_eq!(
        (user1, user2),
        (5, 2),
        "user2: its creation and one sign-in"
    );
    let oldest_kept = server
        .db()
        .int(
            "SELECT MIN(id) FROM security_events WHERE user_id = 1",
            None,
        )
        .await;
    let max = server
        .db()
        .int(
            "SELECT MAX(id) FROM security_events WHERE user_id = 1",
            None,
        )
        .await;
    assert_eq!(max - oldest_kept, 4, "the five newest remain");
}

#[tokio::test]
async fn the_address_policy_decides_what_an_event_keeps() {
    for (policy, expected) in [
        (AddressPolicy::Full, json!("127.0.1.7")),
        (AddressPolicy::Truncated, json!("127.0.1.0/24")),
        (AddressPolicy::None, Value::Null),
    ] {
        let server = start_with(|c| c.security_events.address = policy).await;
        let from = client_at(7);
        let tokens = granted(server.login_from(&from, USER1, None).await, StatusCode::OK)
            .await
            .tokens;
        let list = events(&server, &tokens.access).await;
        assert_eq!(
            newest(&list, "signed_in")["address"],
            expected,
            "{policy:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_log_format_json_stdout_is_json_lines_and_each_security_event_is_one_of_them() {
    const BIN: &str = env!("CARGO_BIN_EXE_tokenpair-server");
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database(dir.path()).await;
    preseed(&database).await;
    let url = match &database {
        tokenpair_server::db::Database::Sqlite(p) => format!("sqlite://{}", p.display()),
        tokenpair_server::db::Database::Postgres(u) => u.clone(),
    };
    // stdout to a file, stderr (the lines for people, and the readiness line) to the harness.
    let stdout = dir.path().join("stdout.log");
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.env_clear()
        .args(["-c", "exec \"$@\" >\"$0\""])
        .arg(&stdout)
        .arg(BIN)
        .args(["--host", "127.0.0.1", "--port", "0", "--demo-users"])
        .args(["--database-url", &url])
        .arg("--static-dir")
        .arg(dir.path().join("dist"))
        .env("LOG_FORMAT", "json")
        .env("ACCESS_TOKEN_SECRET", std::str::from_utf8(SECRET).unwrap());
    let running = tokenpair_testkit::ServerProcess::spawn(cmd);
    let login = client()
        .post(running.url("/api/auth/login"))
        .header(XRW.0, XRW.1)
        .header(header::USER_AGENT, FIREFOX_ON_LINUX)
        .json(&json!({ "username": "user1", "password": "password1" }))
        .send()
        .await
        .unwrap();
    let tokens = granted(login, StatusCode::OK).await.tokens;
    let text = || std::fs::read_to_string(&stdout).unwrap_or_default();
    wait_for("the security event in the log", || async {
        text().contains("security event")
    })
    .await;
    running.stop();

    let lines: Vec<Value> = text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 2, "{lines:#?}");
    let event = lines
        .iter()
        .find(|l| l["target"] == "security" && l["kind"] == "signed_in")
        .unwrap_or_else(|| panic!("no signed_in line: {lines:#?}"));
    assert_eq!(event["level"], "INFO");
    assert_eq!(event["message"], "security event");
    assert_eq!(event["user"], json!(USER1_ID));
    assert_eq!(event["session"], json!(tokens.sid));
    assert_eq!(event["device"], "Firefox on Linux");
    assert_eq!(
        event["address"], "127.0.0.0/24",
        "the same policy as the table"
    );
    assert!(
        event["timestamp"].as_str().is_some_and(|t| t.contains('T')),
        "{event}"
    );
}
