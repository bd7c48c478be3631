//! Accessibility checks and browser emulation for the e2e suite.
//!
//! * [`axe`] injects axe-core (`axe.min.js`, installed by `scripts/setup.sh` into
//!   `~/.cache/tokenpair/tools/node_modules/axe-core`, or `$TOKENPAIR_AXE`) into the page through
//!   WebDriver and runs it: the WCAG 2.x A/AA rules and axe's best practices. The script is
//!   sent by WebDriver (Chromium runs it through DevTools), so the page's CSP does not apply.
//! * [`set_color_scheme`] and [`set_viewport`] emulate `prefers-color-scheme` and a narrow
//!   screen through chromedriver's DevTools bridge (`goog/cdp/execute`); both last for the
//!   page's lifetime across navigations and reloads.
//! * [`browser_log`] reads what the page logged to the console (chromedriver's `se/log`,
//!   enabled by the `goog:loggingPrefs` capability [`crate::Driver::browser`] sets).

use std::fmt;
use std::path::PathBuf;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use hyper::Method;
use serde_json::{json, Value};
use url::{ParseError, Url};

/// The WCAG 2.0/2.1/2.2 A and AA rules, plus axe's best practices.
pub const AXE_TAGS: [&str; 7] = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22a",
    "wcag22aa",
    "best-practice",
];

/// axe-core's browser build.
pub fn axe_script_path() -> PathBuf {
    if let Some(p) = std::env::var_os("TOKENPAIR_AXE") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/tokenpair/tools/node_modules/axe-core/axe.min.js")
}

/// One failed axe rule: where and why.
#[derive(Clone, Debug)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub help_url: String,
    /// One CSS selector path per failing element, with axe's summary of what is wrong.
    pub nodes: Vec<(String, String)>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "[{}] {}: {} ({})",
            self.impact, self.id, self.help, self.help_url
        )?;
        for (target, summary) in &self.nodes {
            let summary = summary.replace('\n', " ");
            writeln!(f, "    {target}: {summary}")?;
        }
        Ok(())
    }
}

/// Runs axe-core on the current page (injecting it first if needed) and returns the violations.
pub async fn axe(browser: &Client) -> Vec<Violation> {
    let loaded = browser
        .execute("return typeof window.axe === 'object'", vec![])
        .await
        .expect("look for axe");
    if loaded != Value::Bool(true) {
        let path = axe_script_path();
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core not found at {} ({e}): run scripts/setup.sh",
                path.display()
            )
        });
        browser
            .execute(
                &format!("{source}\n;return typeof window.axe === 'object';"),
                vec![],
            )
            .await
            .expect("inject axe-core");
    }
    let result = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: arguments[0] },
                                 resultTypes: ['violations'] })
               .then(r => done(r.violations.map(v => ({
                   id: v.id, impact: v.impact || '', help: v.help, helpUrl: v.helpUrl,
                   nodes: v.nodes.map(n => [n.target.join(' '), n.failureSummary || '']) }))))
               .catch(e => done({ error: String(e) }));",
            vec![json!(AXE_TAGS)],
        )
        .await
        .expect("run axe-core");
    if let Some(error) = result.get("error") {
        panic!("axe-core failed: {error}");
    }
    result
        .as_array()
        .expect("a list of violations")
        .iter()
        .map(|v| Violation {
            id: v["id"].as_str().unwrap_or_default().to_owned(),
            impact: v["impact"].as_str().unwrap_or_default().to_owned(),
            help: v["help"].as_str().unwrap_or_default().to_owned(),
            help_url: v["helpUrl"].as_str().unwrap_or_default().to_owned(),
            nodes: v["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| {
                    (
                        n[0].as_str().unwrap_or_default().to_owned(),
                        n[1].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The violations as one readable report (empty when there are none).
pub fn report(violations: &[Violation]) -> String {
    violations.iter().map(|v| v.to_string()).collect()
}

/// A chromedriver extension command: `POST /session/{id}/<path>` with a JSON body.
#[derive(Debug)]
struct SessionPost {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for SessionPost {
    fn endpoint(&self, base_url: &Url, session_id: Option<&str>) -> Result<Url, ParseError> {
        let id = session_id.ok_or(ParseError::EmptyHost)?;
        base_url.join(&format!("session/{id}/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &Url) -> (Method, Option<String>) {
        (Method::POST, Some(self.body.to_string()))
    }
}

/// Runs a Chrome DevTools Protocol command in the current page (chromedriver's
/// `goog/cdp/execute`) and returns its result.
pub async fn cdp(browser: &Client, cmd: &str, params: Value) -> Value {
    browser
        .issue_cmd(SessionPost {
            path: "goog/cdp/execute",
            body: json!({ "cmd": cmd, "params": params }),
        })
        .await
        .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
}

/// A `prefers-color-scheme`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Light,
    Dark,
}

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Light => "light",
            Scheme::Dark => "dark",
        }
    }
}

/// Emulates `prefers-color-scheme` for this page (kept across navigations), and checks that
/// the page really sees it.
pub async fn set_color_scheme(browser: &Client, scheme: Scheme) {
    cdp(
        browser,
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme.name() }] }),
    )
    .await;
    let dark = prefers_dark(browser).await;
    assert_eq!(
        dark,
        scheme == Scheme::Dark,
        "matchMedia('(prefers-color-scheme: dark)') after emulating {scheme:?}"
    );
}

/// `matchMedia('(prefers-color-scheme: dark)').matches` in the page.
pub async fn prefers_dark(browser: &Client) -> bool {
    browser
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await
        .expect("matchMedia")
        == Value::Bool(true)
}

/// Emulates a viewport of `width`×`height` CSS pixels (a phone-like screen when `mobile`),
/// kept across navigations, and checks the page's `innerWidth`.
pub async fn set_viewport(browser: &Client, width: u32, height: u32, mobile: bool) {
    cdp(
        browser,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
    )
    .await;
    let inner = browser
        .execute("return window.innerWidth", vec![])
        .await
        .expect("innerWidth");
    assert_eq!(inner, json!(width), "window.innerWidth after the override");
}

/// Back to the window's own size.
pub async fn clear_viewport(browser: &Client) {
    cdp(browser, "Emulation.clearDeviceMetricsOverride", json!({})).await;
}

/// Whether the page scrolls sideways (`scrollWidth > clientWidth` on the root element).
pub async fn scrolls_horizontally(browser: &Client) -> bool {
    browser
        .execute(
            "const e = document.documentElement; return e.scrollWidth > e.clientWidth;",
            vec![],
        )
        .await
        .expect("scrollWidth")
        == Value::Bool(true)
}

/// One console or network message the browser logged.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`…
    pub level: String,
    /// `console-api`, `network`, `javascript`…
    pub source: String,
    pub message: String,
}

/// What the browser logged since the previous call (chromedriver hands out each entry once).
pub async fn browser_log(browser: &Client) -> Vec<LogEntry> {
    let entries = browser
        .issue_cmd(SessionPost {
            path: "se/log",
            body: json!({ "type": "browser" }),
        })
        .await
        .expect("read the browser log (se/log)");
    entries
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| LogEntry {
            level: e["level"].as_str().unwrap_or_default().to_owned(),
            source: e["source"].as_str().unwrap_or_default().to_owned(),
            message: e["message"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}
