//! [`Core`]: one per tab (or per simulated tab in tests), behind an `Rc`. It owns each
//! concern's state — the token ([`State`]), the refresh in flight ([`RefreshSlot`]), the
//! timers, the probe, the tab channel, the pending sign-out — and is **the one place** where
//! what follows a new token or the end of a sign-in happens ([`Core::token_arrived`],
//! [`Core::signed_out_here`]): the store, the probe, the timers, the broadcast, the events.
//!
//! Requests go out through [`crate::send`]. The flows that drive it live beside it, each in
//! the file named for it: [`crate::refresh`],
//! [`crate::sign_in`], [`crate::sign_out`], [`crate::tab_sync`], [`crate::recovery`]. They
//! call into `Core`; `Core` imports none of them.
//!
//! Timers and event handlers hold only a `Weak<Core>`, so dropping the last handle (or
//! calling `TokenClient::shutdown`) stops everything.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use crate::auth_state::{AuthState, Notice, SessionEnding};
use crate::config::ClientConfig;
use crate::dpop::prover::Prover;
use crate::events::{AuthEvent, EventBus, SignOutReason};
use crate::http::target::Targets;
use crate::http::Transport;
use crate::listener::Listener;
use crate::lock::{CookieLock, Held, Job};
use crate::pending_sign_out::PendingSignOut;
use crate::probe::Probe;
use crate::protocol::{Grant, Protocol};
use crate::single_flight::{RefreshReason, RefreshSlot};
use crate::state::State;
use crate::step_up::{StepUpOutcome, StepUpSlot};
use crate::tabs::{Channel, TabMessage, UserCodec, WireGrant};
use crate::time::{from_ms, Instant};
use crate::timeline::TimelineKind;
use crate::timers::{SessionTimers, WakeWatch};

/// How a new token reached this tab.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// This tab signed in (or adopted a session started elsewhere): tell the other tabs.
    SignedIn(&'static str),
    /// This tab refreshed (or restored): tell the other tabs.
    Refreshed(RefreshReason),
    /// Another tab signed in.
    TabSignedIn,
    /// Another tab refreshed (or restored) the session.
    TabRefreshed,
}

pub(crate) struct Core<P: Protocol> {
    pub(crate) protocol: P,
    pub(crate) transport: Rc<dyn Transport>,
    pub(crate) config: ClientConfig,
    /// The DPoP key and nonce, when [`ClientConfig::dpop`] is on.
    pub(crate) prover: Option<Prover>,
    pub(crate) targets: Targets,
    pub(crate) state: State<P::User>,
    pub(crate) events: EventBus<P::User>,
    pub(crate) lock: CookieLock,
    pub(crate) refresh_slot: RefreshSlot,
    /// Requests waiting for a re-authentication ([`crate::step_up`]).
    pub(crate) step_up: StepUpSlot,
    pub(crate) channel: RefCell<Option<Channel>>,
    pub(crate) timers: SessionTimers,
    pub(crate) wake: WakeWatch,
    pub(crate) probe: Probe,
    pub(crate) pending: PendingSignOut,
    pub(crate) window_listeners: RefCell<Vec<Listener>>,
    started: Cell<bool>,
    shut_down: Cell<bool>,
}

impl<P: Protocol> Core<P> {
    pub(crate) fn new(protocol: P, transport: Rc<dyn Transport>, config: ClientConfig) -> Self {
        let endpoints = protocol.endpoints();
        let targets = Targets::new(
            &endpoints.base_url,
            &endpoints.cookie_paths,
            &config.allowed_origins,
        );
        let state = State::new();
        let events = EventBus::new();
        Core {
            targets,
            events,
            lock: CookieLock::new(&config),
            pending: PendingSignOut::new(config.pending_sign_out_key.clone()),
            prover: config.dpop.then(|| Prover::new(&config.app_id)),
            state,
            protocol,
            transport,
            config,
            refresh_slot: RefreshSlot::default(),
            step_up: StepUpSlot::default(),
            channel: RefCell::new(None),
            timers: SessionTimers::default(),
            wake: WakeWatch::default(),
            probe: Probe::default(),
            window_listeners: RefCell::new(Vec::new()),
            started: Cell::new(false),
            shut_down: Cell::new(false),
        }
    }

    /// Runs `work` inside the cross-tab lock ([`crate::lock`]). If the lock is not granted
    /// within `lock_timeout`, the wait is logged and `work` runs without it: a stuck tab must
    /// not freeze the others. `work` re-checks whatever it needs itself, so running it late or
    /// unlocked is safe. Events are delivered only after it is done.
    pub(crate) async fn with_cookie_lock<F, Fut, T>(&self, work: F) -> T
    where
        F: Fn(Held) -> Fut + Clone + 'static,
        Fut: Future<Output = T> + 'static,
        T: 'static,
    {
        let _hold = self.events.hold();
        let out: Rc<RefCell<Option<T>>> = Rc::default();
        let (sink, locked_work) = (out.clone(), work.clone());
        let job: Job = Box::new(move |held| {
            let work = locked_work(held);
            Box::pin(async move {
                let value = work.await;
                *sink.borrow_mut() = Some(value);
            })
        });
        let ran = self.lock.run(job).await;
        let value = out.borrow_mut().take();
        match (ran, value) {
            (Ok(()), Some(value)) => value,
            _ => {
                self.state.store.log(
                    TimelineKind::CrossTab,
                    &[
                        "waited too long for another tab's ",
                        self.lock.describe(),
                        "; going ahead without it",
                    ]
                    .concat(),
                );
                work(self.lock.unlocked()).await
            }
        }
    }

    /// Tells the other tabs.
    pub(crate) fn broadcast(&self, message: &TabMessage<P::User>) {
        if let Some(channel) = self.channel.borrow().as_ref() {
            let protocol = &self.protocol;
            let codec = UserCodec {
                to_js: &|u| protocol.user_to_js(u),
                from_js: &|v| protocol.user_from_js(v),
            };
            channel.post(&message.to_js(&codec));
        }
    }

    /// After a broadcast made while holding the lock: hold it a moment longer, so the other
    /// tabs have the message before one of them gets the lock.
    pub(crate) async fn settle_after_broadcast(&self, held: &Held) {
        if self.channel.borrow().is_some() {
            crate::time::sleep(self.config.broadcast_settle.min(held.remaining())).await;
        }
    }

    // ---- the one place where a new token, and the end of a sign-in, take effect ----

    /// A new access token is here. Updates the state (a new sign-in, or a fresh token for the
    /// same one), clears any problem and the probe, re-arms the timers, tells the other tabs
    /// (if it came from this tab), and queues the events.
    pub(crate) fn token_arrived(self: &Rc<Self>, grant: Grant<P::User>, how: Arrival) {
        let now = Instant::now();
        let state = &self.state;
        let event = match (how, state.auth()) {
            (Arrival::SignedIn(detail), _) => {
                state.begin(&grant, now, TimelineKind::SignedIn, detail);
                AuthEvent::SignedIn {
                    user: grant.user.clone(),
                }
            }
            (Arrival::TabSignedIn, _) => {
                state.begin(
                    &grant,
                    now,
                    TimelineKind::CrossTab,
                    "signed in in another tab",
                );
                AuthEvent::SignedIn {
                    user: grant.user.clone(),
                }
            }
            (Arrival::Refreshed(reason), AuthState::SignedIn { user, token })
                if same_sign_in(&user, token.session_id(), &grant) =>
            {
                let (kind, detail) = match reason {
                    RefreshReason::After401 => (
                        TimelineKind::RefreshAfter401,
                        "a request got 401; refreshed once",
                    ),
                    RefreshReason::Retry => {
                        (TimelineKind::ProactiveRefresh, "refreshed after a retry")
                    }
                    RefreshReason::Reauthenticated => (
                        TimelineKind::SignedIn,
                        "confirmed it is you: a token with a fresh auth_time",
                    ),
                    _ => (
                        TimelineKind::ProactiveRefresh,
                        "refreshed before the access token expired",
                    ),
                };
                state.replace_token(&grant, now, kind, detail);
                AuthEvent::Refreshed
            }
            (Arrival::TabRefreshed, AuthState::SignedIn { .. }) => {
                state.replace_token(
                    &grant,
                    now,
                    TimelineKind::CrossTab,
                    "another tab refreshed the access token",
                );
                AuthEvent::Refreshed
            }
            (Arrival::Refreshed(_), AuthState::SignedIn { .. }) => {
                state.begin(
                    &grant,
                    now,
                    TimelineKind::CrossTab,
                    "the cookie belongs to a newer sign-in (another tab); switched to it",
                );
                AuthEvent::SignedIn {
                    user: grant.user.clone(),
                }
            }
            (Arrival::Refreshed(_), _) => {
                state.begin(
                    &grant,
                    now,
                    TimelineKind::Restored,
                    "session restored through the refresh cookie",
                );
                AuthEvent::Restored {
                    user: grant.user.clone(),
                }
            }
            (Arrival::TabRefreshed, _) => {
                state.begin(
                    &grant,
                    now,
                    TimelineKind::CrossTab,
                    "another tab restored the session",
                );
                AuthEvent::Restored {
                    user: grant.user.clone(),
                }
            }
        };
        self.probe.cancel();
        let recovered = state.set_problem(None);
        self.arm_session_timers();
        if let (Some(token), Some(user)) = (state.token(), state.user()) {
            let grant = WireGrant::of(&token, &user);
            match how {
                Arrival::SignedIn(_) => self.broadcast(&TabMessage::SignedIn { grant }),
                Arrival::Refreshed(_) => self.broadcast(&TabMessage::Token { grant }),
                Arrival::TabSignedIn | Arrival::TabRefreshed => {}
            }
        }
        self.events.emit(event);
        if recovered {
            self.events.emit(AuthEvent::Recovered);
        }
    }

    /// Nobody is signed in here any more: the timers and the probe stop, the token is
    /// forgotten (new version), and the event says why. The caller tells the other tabs if it
    /// should.
    pub(crate) fn signed_out_here(
        &self,
        notice: Option<Notice>,
        detail: &str,
        reason: SignOutReason,
    ) {
        self.timers.cancel();
        self.probe.cancel();
        self.end_step_up(StepUpOutcome::SignedOut);
        self.state.end(notice, detail);
        self.events.emit(AuthEvent::SignedOut { reason });
    }

    /// (Re)arms the current token's timers: the proactive refresh, the warning before the
    /// session's end, and the end itself (where the session signs out here: the server would
    /// refuse the next refresh anyway).
    pub(crate) fn arm_session_timers(self: &Rc<Self>) {
        // Every new token (and every sign-out) cancels these timers first, so none of them can
        // fire for another token than the one they were armed for.
        self.timers.cancel();
        if self.is_shut_down() {
            return;
        }
        let Some(token) = self.state.token() else {
            return;
        };
        let now = Instant::now();
        if self.config.proactive_refresh {
            let margin = self.config.margin_ms(token.lifetime_ms());
            // Taking turns through the storage lease, up to `refresh_jitter` earlier (never
            // more than the margin again), so the tabs do not all reach for it at the same
            // instant. (A Web Lock queues them in order: no need.)
            let spread = if self.lock.is_lease() {
                (self.config.refresh_jitter.as_millis() as f64).min(margin)
            } else {
                0.0
            };
            let jitter = spread * crate::backoff::random();
            let delay = (token.remaining_ms(&now) - margin - jitter).max(250.0);
            let weak = Rc::downgrade(self);
            self.timers.arm_proactive(from_ms(delay), move || {
                if let Some(core) = weak.upgrade() {
                    core.refresh_in_background(RefreshReason::Proactive);
                }
            });
        }
        let Some(left) = token.session_remaining_ms(&now) else {
            return;
        };
        let ending = if token.session_end_is_extendable() {
            SessionEnding::Idle
        } else {
            SessionEnding::Absolute
        };
        let warn_in = left - self.config.session_warning.as_millis() as f64;
        let weak = Rc::downgrade(self);
        self.timers.arm_warning(from_ms(warn_in), move || {
            if let Some(core) = weak.upgrade() {
                core.state.store.set_session_ending(Some(ending));
                core.events.emit(AuthEvent::SessionEndingSoon { ending });
            }
        });
        let weak = Rc::downgrade(self);
        self.timers.arm_end(from_ms(left), move || {
            if let Some(core) = weak.upgrade() {
                core.signed_out_here(
                    Some(Notice::SessionEnded),
                    "the session reached its end without a refresh",
                    SignOutReason::SessionExpired,
                );
            }
        });
    }

    // ---- life cycle ----

    /// Stops every timer, handler and the channel. Idempotent.
    pub(crate) fn stop(&self) {
        self.shut_down.set(true);
        self.timers.cancel();
        self.wake.stop();
        self.probe.cancel();
        self.window_listeners.borrow_mut().clear();
        self.channel.borrow_mut().take();
        self.events.clear();
    }

    /// Marks the client started; `false` if it already was (or is shut down).
    pub(crate) fn mark_started(&self) -> bool {
        !self.is_shut_down() && !self.started.replace(true)
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.get()
    }
}

/// Whether `grant` continues the sign-in of `user` in session `session_id`: the same session
/// where the backend names sessions, otherwise the same user.
pub(crate) fn same_sign_in<U: PartialEq>(
    user: &U,
    session_id: Option<&str>,
    grant: &Grant<U>,
) -> bool {
    match (session_id, grant.session_id.as_deref()) {
        (Some(a), Some(b)) => a == b && *user == grant.user,
        _ => *user == grant.user,
    }
}

impl<P: Protocol> Drop for Core<P> {
    fn drop(&mut self) {
        self.stop();
    }
}
