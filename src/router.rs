//! The app's router: the History API for seven fixed routes, instead of `leptos_router`.
//!
//! What it does is what this app used of `leptos_router` (measured: it was ~25 KB of the
//! wasm's code before compression, plus its generic views): the current path and query as
//! signals, `navigate` (push or replace, scroll to the top), the browser's back and forward
//! buttons (`popstate`), and same-origin link clicks handled without a page load. Routes are
//! an enum matched in [`crate::app`]; the guard for the signed-in views is there too.
//!
//! A click is left to the browser when it is not a plain left click, when the link has a
//! `target`, `download` or `rel="external"`, points to another origin, or was already handled
//! (`preventDefault`, as the skip link does).

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The seven views, and everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Login,
    Register,
    Dashboard,
    Sessions,
    Token,
    Activity,
    Account,
    NotFound,
}

impl Route {
    pub fn of(path: &str) -> Route {
        match path.trim_end_matches('/') {
            "" => Route::Dashboard,
            "/login" => Route::Login,
            "/register" => Route::Register,
            "/sessions" => Route::Sessions,
            "/token" => Route::Token,
            "/activity" => Route::Activity,
            "/account" => Route::Account,
            _ => Route::NotFound,
        }
    }

    /// Views only a signed-in user sees.
    pub fn protected(self) -> bool {
        matches!(
            self,
            Route::Dashboard | Route::Sessions | Route::Token | Route::Activity | Route::Account
        )
    }
}

/// What a navigation does to the browser's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum History {
    /// A new entry: Back returns here.
    Push,
    /// The current entry changes: Back skips it (a redirect).
    Replace,
}

/// Where the app is: path and query string (with its `?`), as the address bar says.
#[derive(Clone, Copy)]
pub struct Location {
    path: RwSignal<String>,
    search: RwSignal<String>,
}

impl Location {
    /// The path (tracked).
    pub fn path(&self) -> String {
        self.path.get()
    }

    /// A query parameter, percent-decoded (not tracked).
    pub fn query(&self, name: &str) -> Option<String> {
        let search = self.search.get_untracked();
        web_sys::UrlSearchParams::new_with_str(&search)
            .ok()?
            .get(name)
    }

    /// Goes to `to` (a same-origin path with optional query): a new history entry, or
    /// replacing the current one.
    pub fn navigate(&self, to: &str, history: History) {
        let replace = history == History::Replace;
        let Some(window) = web_sys::window() else {
            return;
        };
        if let Ok(history) = window.history() {
            let done = if replace {
                history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
            } else {
                history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(to))
            };
            if done.is_err() {
                return;
            }
        }
        if !replace {
            window.scroll_to_with_x_and_y(0.0, 0.0);
        }
        self.read_address_bar();
    }

    fn read_address_bar(&self) {
        let Some(location) = web_sys::window().map(|w| w.location()) else {
            return;
        };
        let path = location.pathname().unwrap_or_default();
        let search = location.search().unwrap_or_default();
        if self.path.get_untracked() != path {
            self.path.set(path);
        }
        if self.search.get_untracked() != search {
            self.search.set(search);
        }
    }
}

/// Starts the router for this app (its listeners end with the app) and provides it.
pub fn provide_router() -> Location {
    let here = Location {
        path: RwSignal::new(String::new()),
        search: RwSignal::new(String::new()),
    };
    here.read_address_bar();
    let back_forward = window_event_listener(ev::popstate, move |_| here.read_address_bar());
    let clicks = window_event_listener(ev::click, move |ev| on_click(here, &ev));
    on_cleanup(move || {
        back_forward.remove();
        clicks.remove();
    });
    provide_context(here);
    here
}

/// The router of the app this is called in.
pub fn use_location() -> Location {
    // Not `expect_context`: its message needs `Debug` formatting in the bundle (as `use_auth`).
    use_context::<Location>().expect("use_location: no router (call provide_router first)")
}

/// A same-origin link click becomes a navigation without a page load.
fn on_click(here: Location, ev: &ev::MouseEvent) {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return;
    }
    let Some(link) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .and_then(|e| e.closest("a[href]").ok().flatten())
    else {
        return;
    };
    let attr = |name| link.get_attribute(name);
    if attr("target").is_some_and(|t| !t.is_empty() && t != "_self")
        || attr("download").is_some()
        || attr("rel").is_some_and(|r| r.split_ascii_whitespace().any(|r| r == "external"))
    {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let base = window.location().href().unwrap_or_default();
    let Some(url) = attr("href").and_then(|h| web_sys::Url::new_with_base(&h, &base).ok()) else {
        return;
    };
    if url.origin() != window.location().origin().unwrap_or_default() {
        return;
    }
    ev.prevent_default();
    here.navigate(
        &[url.pathname(), url.search(), url.hash()].concat(),
        History::Push,
    );
}
