//! While the server is unavailable: keep the session, say so, and retry with backoff.
//!
//! [`Core::went_unavailable`] records the [`Problem`] (views show it) and schedules one probe:
//! exponential backoff with jitter (cap about 30 s), never sooner than a `Retry-After`, only
//! one probe in flight or scheduled at a time, and — while `navigator.onLine` is false — none
//! at all until the browser fires `online`. A probe is a refresh if the session needs one
//! (restoring, or the token is about to expire), otherwise a `GET` of the health endpoint.
//! A refresh that got no usable answer is always retried as a refresh (the cookie may have
//! been rotated without the browser hearing it; the server answers the predecessor only
//! within its grace window). When a probe succeeds the problem is cleared and proactive
//! refreshing resumes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use gloo_timers::callback::Timeout;

use crate::backoff::random;
use crate::clock::Instant;
use crate::core::Core;
use crate::listener::Listener;
use crate::problem::Problem;
use crate::refresh::{RefreshOutcome, RefreshReason};
use crate::transport::HttpRequest;

/// The probe's bookkeeping.
#[derive(Default)]
pub(crate) struct ProbeState {
    timer: RefCell<Option<Timeout>>,
    in_flight: Cell<bool>,
    attempt: Cell<u32>,
    waiting_for_online: RefCell<Option<Listener>>,
    /// The last refresh got no usable answer. The server may have rotated the cookie without
    /// the browser hearing it, so the retry must be a refresh, soon — within the server's
    /// grace window, where presenting the predecessor is still answered.
    pub(crate) refresh_owed: Cell<bool>,
}

impl ProbeState {
    pub(crate) fn cancel(&self) {
        self.timer.borrow_mut().take();
        self.waiting_for_online.borrow_mut().take();
        self.attempt.set(0);
        self.refresh_owed.set(false);
    }

    /// Probes scheduled so far in this outage (for tests and diagnostics).
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt.get()
    }
}

fn browser_is_offline() -> bool {
    web_sys::window().is_some_and(|w| !w.navigator().on_line())
}

impl Core {
    /// Records `problem` and makes sure a probe is coming.
    pub(crate) fn went_unavailable(self: &Rc<Self>, problem: Problem) {
        if self.is_shut_down() {
            return;
        }
        let retry_after = problem.retry_after_secs();
        self.store.set_problem(Some(problem));
        self.schedule_probe(retry_after.map(|s| Duration::from_secs(u64::from(s))));
    }

    /// The server answered as it should: forget the problem and the backoff.
    pub(crate) fn recovered(self: &Rc<Self>) {
        self.probe.cancel();
        self.store.set_problem(None);
    }

    fn schedule_probe(self: &Rc<Self>, retry_after: Option<Duration>) {
        let probe = &self.probe;
        if probe.in_flight.get()
            || probe.timer.borrow().is_some()
            || probe.waiting_for_online.borrow().is_some()
        {
            return;
        }
        let attempt = probe.attempt.get();
        probe.attempt.set(attempt.saturating_add(1));
        let wait = self.config.backoff.delay(attempt, random(), retry_after);
        let ms = u32::try_from(wait.as_millis()).unwrap_or(u32::MAX);
        let weak = Rc::downgrade(self);
        *probe.timer.borrow_mut() = Some(Timeout::new(ms, move || {
            if let Some(core) = weak.upgrade() {
                core.probe.timer.borrow_mut().take();
                core.probe_now();
            }
        }));
    }

    /// Probes at once (unless one is in flight or the browser is offline).
    pub(crate) fn probe_now(self: &Rc<Self>) {
        if self.is_shut_down() || self.probe.in_flight.get() {
            return;
        }
        self.probe.timer.borrow_mut().take();
        if browser_is_offline() {
            let weak = Rc::downgrade(self);
            let listener = Listener::on_window("online", move |_| {
                if let Some(core) = weak.upgrade() {
                    core.probe.waiting_for_online.borrow_mut().take();
                    core.probe_now();
                }
            });
            *self.probe.waiting_for_online.borrow_mut() = listener;
            return;
        }
        self.probe.in_flight.set(true);
        let core = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = core.probe_once().await;
            core.probe.in_flight.set(false);
            match result {
                Ok(()) => {
                    if core.store.is_signed_in_untracked() {
                        core.recovered();
                        core.schedule_proactive();
                    }
                }
                Err(problem) => {
                    let still_wanted = !core
                        .store
                        .state_untracked()
                        .eq(&crate::AuthState::SignedOut);
                    if still_wanted {
                        core.went_unavailable(problem);
                    }
                }
            }
        });
    }

    async fn probe_once(self: &Rc<Self>) -> Result<(), Problem> {
        let needs_token = self.store.is_restoring_untracked()
            || self.probe.refresh_owed.get()
            || self.store.token_untracked().is_some_and(|t| {
                t.remaining_ms(&Instant::now()) <= self.config.margin_ms(t.lifetime_ms())
            });
        if needs_token {
            return match self.refresh(RefreshReason::Retry).await {
                RefreshOutcome::Unavailable(problem) => Err(problem),
                RefreshOutcome::Refreshed | RefreshOutcome::Ended | RefreshOutcome::Stale => Ok(()),
            };
        }
        match self
            .send(HttpRequest::get(self.config.endpoints.health))
            .await
        {
            Ok(r) if (200..300).contains(&r.status) => Ok(()),
            Ok(r) => Err(Problem::from_response(&r)),
            Err(e) => Err(Problem::from_transport(&e)),
        }
    }
}
