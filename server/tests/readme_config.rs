//! The "Configuration reference" table of `docs/deploy.md` is checked against the real
//! `tokenpair-server --help`, so the documentation cannot drift from the clap definitions: every
//! flag, environment variable and default that `--help` shows must be in the table, and the table
//! may list nothing else.

use std::path::PathBuf;
use std::process::Command;

/// One option as `--help` shows it.
#[derive(Debug)]
struct HelpOption {
    flag: String,
    env: Option<String>,
    default: Option<String>,
}

/// `docs/deploy.md`, found at run time (cargo runs integration tests from `server/`). A binary
/// built from another checkout that shares the target directory must not read a stale path.
fn deploy_guide() -> String {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .expect("a working directory");
    let path = dir.join("..").join("docs").join("deploy.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn help_options() -> Vec<HelpOption> {
    let out = Command::new(env!("CARGO_BIN_EXE_tokenpair-server"))
        .arg("--help")
        .output()
        .expect("run tokenpair-server --help");
    assert!(out.status.success(), "--help exits 0");
    let text = String::from_utf8(out.stdout).expect("utf-8 help");

    // Options start with `--flag` (possibly after `-h, `); their description follows until the
    // next option. The `[env: X=]` and `[default: Y]` markers sit in the description.
    let mut options: Vec<HelpOption> = Vec::new();
    let mut description = String::new();
    let finish = |options: &mut Vec<HelpOption>, description: &mut String| {
        if let Some(last) = options.last_mut() {
            last.env = between(description, "[env: ", "]").map(|e| e.trim_end_matches('=').into());
            last.default = between(description, "[default: ", "]").map(Into::into);
        }
        description.clear();
    };
    for line in text.lines() {
        let trimmed = line.trim_start();
        let flag = trimmed
            .strip_prefix("-h, ")
            .or_else(|| trimmed.strip_prefix("-V, "))
            .unwrap_or(trimmed);
        if line.starts_with("  ") && flag.starts_with("--") && !line.starts_with("          ") {
            finish(&mut options, &mut description);
            let name = flag.split_whitespace().next().unwrap_or_default();
            options.push(HelpOption {
                flag: name.to_owned(),
                env: None,
                default: None,
            });
        } else {
            description.push_str(trimmed);
            description.push(' ');
        }
    }
    finish(&mut options, &mut description);
    options.retain(|o| o.flag != "--help" && o.flag != "--version");
    options
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// Rows of the table between `<!-- config:start -->` and `<!-- config:end -->`:
/// `| flag | env | default | meaning |`, cells without their backticks.
fn documented_rows() -> Vec<Vec<String>> {
    let guide = deploy_guide();
    let table = between(&guide, "<!-- config:start -->", "<!-- config:end -->").expect(
        "docs/deploy.md has a Configuration reference table between config:start/config:end markers",
    );
    table
        .lines()
        .filter(|l| l.starts_with("| `--"))
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn the_configuration_reference_lists_exactly_the_flags_of_help_with_their_env_and_defaults() {
    let options = help_options();
    assert!(
        options.len() >= 10,
        "parsed too few options from --help: {options:?}"
    );
    let rows = documented_rows();

    for option in &options {
        let row = rows
            .iter()
            .find(|r| r[0] == option.flag)
            .unwrap_or_else(|| {
                panic!(
                    "docs/deploy.md's Configuration reference lacks {}",
                    option.flag
                )
            });
        let env = option.env.as_deref().unwrap_or("—");
        assert_eq!(row[1], env, "environment variable of {}", option.flag);
        if let Some(default) = &option.default {
            assert_eq!(&row[2], default, "default of {}", option.flag);
        }
    }
    for row in &rows {
        assert!(
            options.iter().any(|o| o.flag == row[0]),
            "docs/deploy.md documents {} but --help has no such flag",
            row[0]
        );
    }
}

#[test]
fn the_documented_contract_names_are_flags_of_the_server() {
    let options = help_options();
    for (flag, env) in [
        ("--port", "PORT"),
        ("--host", "HOST"),
        ("--static-dir", "STATIC_DIR"),
        ("--database-url", "DATABASE_URL"),
        ("--access-token-secret", "ACCESS_TOKEN_SECRET"),
        ("--access-token-expiry", "ACCESS_TOKEN_EXPIRY"),
        ("--refresh-token-expiry", "REFRESH_TOKEN_EXPIRY"),
        ("--refresh-reuse-grace", "REFRESH_REUSE_GRACE"),
    ] {
        let option = options
            .iter()
            .find(|o| o.flag == flag)
            .unwrap_or_else(|| panic!("--help lacks {flag}"));
        assert_eq!(option.env.as_deref(), Some(env), "{flag}");
    }
}
