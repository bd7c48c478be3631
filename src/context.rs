//! What every view shares, apart from the router: the token client ([`use_auth`], from
//! `tokenpair-client`, speaking tokenpair's protocol) and a ticking clock for countdowns
//! ([`use_clock`]).

use leptos::prelude::*;
use tokenpair_client::{Instant, TokenpairProtocol};

/// The token client in the context, for tokenpair's backend.
pub type Auth = tokenpair_client::Auth<TokenpairProtocol>;

/// The [`Auth`] the app provided.
pub fn use_auth() -> Auth {
    tokenpair_client::use_auth::<TokenpairProtocol>()
}

/// A clock for countdowns and "x s ago": both clocks, updated every half second.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<f64>);

impl Clock {
    /// Now (reactive: re-runs the reader every tick).
    pub fn now(&self) -> Instant {
        self.0.track();
        Instant::now()
    }
}

/// Starts the clock and provides it.
pub fn provide_clock() {
    let clock = Clock(RwSignal::new(js_sys::Date::now()));
    provide_context(clock);
    if let Ok(handle) = set_interval_with_handle(
        move || clock.0.set(js_sys::Date::now()),
        std::time::Duration::from_millis(500),
    ) {
        on_cleanup(move || handle.clear());
    }
}

/// The clock an ancestor provided.
pub fn use_clock() -> Clock {
    // Not `expect_context`: its message needs `Debug` formatting in the bundle (as `use_auth`).
    use_context::<Clock>().expect("use_clock: no clock (call provide_clock first)")
}
