//! When the server is unavailable, and when time passed without us.
//!
//! * [`Core::went_unavailable`] records the [`Problem`] (views show it) and schedules one
//!   probe ([`crate::probe`]): exponential backoff with jitter (cap about 30 s), never sooner
//!   than a `Retry-After` however long, one probe in flight or scheduled at a time, and —
//!   while `navigator.onLine` is false — none at all until the browser fires `online`.
//! * A probe is a refresh if the session needs one (restoring, a refresh owed, or the token
//!   about to expire), otherwise the protocol's health endpoint (or a refresh, if it has
//!   none). When it succeeds the problem is cleared, [`AuthEvent::Recovered`] tells the app
//!   (views reload what failed), and proactive refreshing resumes.
//! * [`Core::check_now`] runs on `visibilitychange`, `focus`, `online`, `pageshow` and on
//!   wake: it re-checks the token (or probes, if the server was unavailable).

use std::rc::Rc;

use crate::core::Core;
use crate::events::AuthEvent;
use crate::http::Request;
use crate::listener::Listener;
use crate::probe::browser_is_offline;
use crate::problem::Problem;
use crate::protocol::Protocol;
use crate::send::Prove;
use crate::single_flight::{RefreshOutcome, RefreshReason};
use crate::time::Instant;
use crate::timeline::TimelineKind;

impl<P: Protocol> Core<P> {
    /// Records `problem` and makes sure a probe is coming.
    pub(crate) fn went_unavailable(self: &Rc<Self>, problem: Problem) {
        if self.is_shut_down() {
            return;
        }
        let retry_after = problem.retry_after();
        self.state.set_problem(Some(problem));
        if self.probe.is_busy() {
            return;
        }
        let weak = Rc::downgrade(self);
        self.probe
            .schedule(&self.config.backoff, retry_after, move || {
                if let Some(core) = weak.upgrade() {
                    core.probe.unschedule();
                    core.probe_now();
                }
            });
    }

    /// The server answered as it should: forget the problem and the backoff.
    pub(crate) fn recovered(self: &Rc<Self>) {
        self.probe.cancel();
        if self.state.set_problem(None) {
            self.events.emit(AuthEvent::Recovered);
        }
    }

    /// Probes at once (unless one is in flight or the browser is offline).
    pub(crate) fn probe_now(self: &Rc<Self>) {
        if self.is_shut_down() || self.probe.in_flight() {
            return;
        }
        self.probe.unschedule();
        if browser_is_offline() {
            let weak = Rc::downgrade(self);
            self.probe.wait_for_online(move |_| {
                if let Some(core) = weak.upgrade() {
                    core.probe.stop_waiting_for_online();
                    core.probe_now();
                }
            });
            return;
        }
        self.probe.set_in_flight(true);
        let core = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = core.probe_once().await;
            core.probe.set_in_flight(false);
            match result {
                Ok(()) if core.state.is_signed_in() => {
                    core.recovered();
                    core.arm_session_timers();
                }
                Ok(()) => {}
                Err(problem) if !core.state.is_signed_out() => core.went_unavailable(problem),
                Err(_) => {}
            }
        });
    }

    async fn probe_once(self: &Rc<Self>) -> Result<(), Problem> {
        let health = self.protocol.endpoints().health.clone();
        let needs_token = self.state.is_restoring()
            || self.probe.refresh_owed()
            || health.is_none()
            || self.state.token().is_some_and(|t| {
                t.remaining_ms(&Instant::now()) <= self.config.margin_ms(t.lifetime_ms())
            });
        let Some(health) = health.filter(|_| !needs_token) else {
            return match self.refresh(RefreshReason::Retry).await {
                RefreshOutcome::Unavailable(problem) => Err(problem),
                _ => Ok(()),
            };
        };
        let request = self
            .prepare(Request::get(health), None, false)
            .map_err(|_| Problem::Unreachable)?;
        match self
            .send_prepared(request, Prove::No, self.config.request_timeout)
            .await
        {
            Ok(r) if r.is_success() => Ok(()),
            Ok(r) => Err(Problem::from_response(&r)),
            Err(e) => Err(Problem::from_transport(&e)),
        }
    }

    /// Time may have passed without our timers: check the token (or the server) now.
    pub(crate) fn check_now(self: &Rc<Self>) {
        if self.is_shut_down() || self.state.pending_sign_out().is_some() {
            return;
        }
        if self.state.problem().is_some() {
            self.probe_now();
            return;
        }
        if let Some(token) = self.state.token() {
            if token.remaining_ms(&Instant::now()) <= self.config.margin_ms(token.lifetime_ms()) {
                self.refresh_in_background(RefreshReason::Proactive);
            } else {
                self.arm_session_timers();
            }
        }
    }

    /// Re-checks when the tab becomes visible, gets focus, goes online or is shown again.
    pub(crate) fn listen_to_window(self: &Rc<Self>) {
        let mut listeners = self.window_listeners.borrow_mut();
        for event in ["visibilitychange", "focus", "online", "pageshow"] {
            let weak = Rc::downgrade(self);
            let listener = Listener::on_window(event, move |_| {
                if let Some(core) = weak.upgrade() {
                    core.check_now();
                }
            });
            listeners.extend(listener);
        }
    }

    /// Starts the wake detector ([`crate::timers::WakeWatch`]); it runs until shutdown.
    pub(crate) fn watch_for_wake(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.wake.start(self.config.wake_check_every, move || {
            if let Some(core) = weak.upgrade() {
                core.state.store.log(
                    TimelineKind::Woke,
                    "time jumped (sleep or a frozen tab); checking the token",
                );
                core.check_now();
            }
        });
    }
}
