//! What an operator installs (issue 21, item 3): `make install` puts the release server, the
//! built SPA, the systemd unit and its settings file where docs/deploy.md says; the unit passes
//! `systemd-analyze verify` without a word and rates "OK" in `systemd-analyze security`; the
//! settings example names only real settings; and the setup stops with a clear message on a
//! machine that is not Debian 12.

use std::path::{Path, PathBuf};
use std::process::Command;

use tokenpair_e2e::{dist_dir, http_get};
use tokenpair_testkit::{server_command, ServerProcess};

fn root() -> PathBuf {
    dist_dir().join("..")
}

fn server_bin() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
        .join("release/tokenpair-server")
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn make_install_puts_the_server_the_spa_the_unit_and_its_settings_where_the_docs_say() {
    let dest = tempfile::tempdir().unwrap();
    let install = |dest: &Path| {
        run(Command::new("make")
            .arg("-s")
            .arg("install")
            .arg(format!("DESTDIR={}", dest.display()))
            .arg("PREFIX=/opt/tokenpair")
            .arg(format!("SERVER_BIN={}", server_bin().display()))
            .current_dir(root()))
    };
    let (ok, out) = install(dest.path());
    assert!(ok, "{out}");
    let d = dest.path();
    let bin = d.join("opt/tokenpair/bin/tokenpair-server");
    assert_eq!(mode(&bin), 0o755);
    assert!(d
        .join("opt/tokenpair/share/tokenpair/dist/index.html")
        .is_file());
    let unit = std::fs::read_to_string(d.join("etc/systemd/system/tokenpair.service")).unwrap();
    for line in [
        "ExecStart=/opt/tokenpair/bin/tokenpair-server\n",
        "Environment=STATIC_DIR=/opt/tokenpair/share/tokenpair/dist\n",
        "Environment=DATABASE_URL=sqlite:///var/lib/tokenpair/tokenpair.db\n",
    ] {
        assert!(
            unit.contains(line),
            "the unit names the PREFIX it was installed under ({line:?}):\n{unit}"
        );
    }
    let env = d.join("etc/tokenpair/env");
    assert_eq!(mode(&env), 0o600, "the settings file is private");

    // An operator's edits survive a second install.
    std::fs::write(&env, "PUBLIC_URL=https://mine.example\n").unwrap();
    let (ok, out) = install(dest.path());
    assert!(ok, "{out}");
    assert!(out.contains("kept"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&env).unwrap(),
        "PUBLIC_URL=https://mine.example\n"
    );

    // What was installed runs: the server serves the installed SPA.
    let db = tempfile::tempdir().unwrap();
    let mut cmd = server_command(
        &bin,
        &format!("sqlite://{}", db.path().join("t.db").display()),
    );
    cmd.arg("--static-dir")
        .arg(d.join("opt/tokenpair/share/tokenpair/dist"));
    let server = ServerProcess::spawn(cmd);
    let page = http_get(&format!("{}/", server.base)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<html"), "{}", page.body);
    server.stop();

    // Without a build, it says what to do instead of copying nothing.
    let (ok, out) = run(Command::new("make")
        .args(["-s", "install", "SERVER_BIN=/nonexistent/tokenpair-server"])
        .arg(format!("DESTDIR={}", dest.path().display()))
        .current_dir(root()));
    assert!(!ok);
    assert!(
        out.contains("build first, as yourself: make spa server"),
        "{out}"
    );
}

/// The unit as installed, with its ExecStart pointing at the real binary (verify checks that
/// the program exists).
fn unit_for_verification(dir: &Path) -> PathBuf {
    let unit = std::fs::read_to_string(root().join("deploy/tokenpair.service")).unwrap();
    let unit = unit.replace(
        "/usr/local/bin/tokenpair-server",
        &server_bin().display().to_string(),
    );
    let path = dir.join("tokenpair.service");
    std::fs::write(&path, unit).unwrap();
    path
}

#[test]
fn the_systemd_unit_verifies_without_a_warning_and_is_rated_ok_for_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let unit = unit_for_verification(dir.path());
    let (ok, out) = run(Command::new("systemd-analyze").arg("verify").arg(&unit));
    assert!(
        ok && out.trim().is_empty(),
        "systemd-analyze verify:\n{out}"
    );

    // Control: verify does catch a mistyped directive (it warns, so any output fails above).
    let typo = dir.path().join("typo.service");
    let text = std::fs::read_to_string(&unit).unwrap();
    std::fs::write(&typo, text.replace("ProtectSystem=", "ProtectSytem=")).unwrap();
    let (_, out) = run(Command::new("systemd-analyze").arg("verify").arg(&typo));
    assert!(out.contains("Unknown key"), "{out}");

    // Exposure 0 (locked down) … 10 (unsafe); "OK" is below 2.
    let (ok, out) = run(Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20", "--no-pager"])
        .arg(&unit));
    assert!(ok, "exposure above 2.0:\n{out}");
    for directive in [
        "DynamicUser=yes",
        "StateDirectory=tokenpair",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
    ] {
        assert!(text.contains(directive), "{directive:?} in the unit");
    }
}

#[test]
fn the_settings_example_names_only_settings_the_server_has() {
    let (ok, help) = run(Command::new(server_bin()).arg("--help"));
    assert!(ok, "{help}");
    let example = std::fs::read_to_string(root().join("deploy/tokenpair.env.example")).unwrap();
    let names: Vec<&str> = example
        .lines()
        .map(|l| l.trim_start_matches('#').trim())
        .filter_map(|l| l.split_once('=').map(|(name, _)| name))
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    assert!(names.len() >= 6, "{names:?}");
    for name in names {
        if name == "RUST_LOG" {
            continue; // the log filter, read by tracing
        }
        assert!(
            help.contains(&format!("[env: {name}=")) || help.contains(&format!("[env: {name}]")),
            "{name} is not a setting of tokenpair-server"
        );
    }
}

#[test]
fn setup_on_a_machine_that_is_not_debian_12_stops_and_says_what_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let release = dir.path().join("os-release");
    std::fs::write(
        &release,
        "ID=ubuntu\nVERSION_ID=\"24.04\"\nPRETTY_NAME=\"Ubuntu 24.04 LTS\"\n",
    )
    .unwrap();
    let (ok, out) = run(Command::new("bash")
        .arg(root().join("scripts/setup.sh"))
        .arg("run")
        .env("TOKENPAIR_OS_RELEASE", &release));
    assert!(!ok, "{out}");
    for words in [
        "Ubuntu 24.04 LTS, not Debian 12",
        "TOKENPAIR_ANY_OS=1",
        "wasm32-unknown-unknown",
        "PostgreSQL 15, 16 or 17",
    ] {
        assert!(out.contains(words), "{words:?} in:\n{out}");
    }
}

#[test]
fn trunk_serve_proxies_every_server_path_the_spa_calls_or_links_to_the_dev_api() {
    // `make dev` serves the API on :3000; `trunk serve` must pass on the API and the public
    // keys the token inspector links to (/.well-known/jwks.json), or the link is a 404.
    let trunk = std::fs::read_to_string(root().join("Trunk.toml")).unwrap();
    let backends: Vec<&str> = trunk
        .lines()
        .filter_map(|l| l.trim().strip_prefix("backend = "))
        .map(|v| v.trim_matches('"'))
        .collect();
    assert_eq!(
        backends,
        [
            "http://127.0.0.1:3000/api/",
            "http://127.0.0.1:3000/.well-known/"
        ]
    );
    let (_, makefile) = run(Command::new("make").args(["-n", "dev"]).current_dir(root()));
    assert!(
        makefile.contains("--port 3000") && makefile.contains("--demo-users"),
        "{makefile}"
    );
}
