//! The state every part of the client shares: one [`Core`] per tab (or per simulated tab in
//! tests), behind an `Rc`. Each concern adds its own `impl Core` block in its own file:
//! [`crate::refresh`], [`crate::api`], [`crate::endpoints`], [`crate::sign_out`],
//! [`crate::probe`], [`crate::timers`], [`crate::tab_sync`].
//!
//! Timers and event handlers hold only a `Weak<Core>`, so dropping the last handle (or
//! calling [`crate::TokenClient::shutdown`]) stops everything.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use crate::config::ClientConfig;
use crate::events::EventKind;
use crate::listener::Listener;
use crate::lock::{with_lock, LockTimedOut};
use crate::probe::ProbeState;
use crate::refresh::RefreshFuture;
use crate::state::AuthStore;
use crate::tabs::{Channel, TabMessage};
use crate::timers::Timers;
use crate::transport::{send_with_deadline, HttpRequest, HttpResponse, Transport, TransportError};

pub(crate) struct Core {
    pub(crate) transport: Rc<dyn Transport>,
    pub(crate) config: ClientConfig,
    pub(crate) store: AuthStore,
    /// The refresh in flight: every caller awaits this one (single flight).
    pub(crate) inflight: RefCell<Option<RefreshFuture>>,
    pub(crate) channel: RefCell<Option<Channel>>,
    pub(crate) timers: Timers,
    pub(crate) probe: ProbeState,
    pub(crate) listeners: RefCell<Vec<Listener>>,
    pub(crate) shut_down: Cell<bool>,
}

impl Core {
    pub(crate) fn new(transport: Rc<dyn Transport>, config: ClientConfig) -> Core {
        Core {
            transport,
            config,
            store: AuthStore::new(),
            inflight: RefCell::new(None),
            channel: RefCell::new(None),
            timers: Timers::default(),
            probe: ProbeState::default(),
            listeners: RefCell::new(Vec::new()),
            shut_down: Cell::new(false),
        }
    }

    /// Sends `request` with the configured deadline.
    pub(crate) async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        send_with_deadline(&*self.transport, request, self.config.request_timeout).await
    }

    /// Runs `work` inside the cross-tab lock around everything that sets the refresh cookie
    /// ([`crate::lock`]). If the lock is not granted within `lock_timeout`, the wait is logged
    /// and `work` runs without it: a stuck tab must not freeze the others. `work` re-checks
    /// whatever it needs itself, so running it late or unlocked is safe.
    pub(crate) async fn with_cookie_lock<F, Fut, T>(&self, work: F) -> T
    where
        F: Fn() -> Fut + Clone + 'static,
        Fut: Future<Output = T> + 'static,
        T: 'static,
    {
        let name = self.config.lock_name.as_deref();
        match with_lock(name, self.config.lock_timeout, work.clone()).await {
            Ok(value) => value,
            Err(LockTimedOut) => {
                self.store.log(
                    EventKind::CrossTab,
                    "waited too long for another tab's lock; going ahead without it",
                );
                work().await
            }
        }
    }

    /// Tells the other tabs.
    pub(crate) fn broadcast(&self, message: &TabMessage) {
        if let Some(channel) = self.channel.borrow().as_ref() {
            channel.post(message);
        }
    }

    /// After a broadcast made while holding the lock: hold it a moment longer, so the other
    /// tabs have the message before one of them gets the lock.
    pub(crate) async fn settle_after_broadcast(&self) {
        if self.channel.borrow().is_some() && !self.config.broadcast_settle.is_zero() {
            let ms = u32::try_from(self.config.broadcast_settle.as_millis()).unwrap_or(u32::MAX);
            gloo_timers::future::TimeoutFuture::new(ms).await;
        }
    }

    /// Stops every timer, handler and the channel. Idempotent.
    pub(crate) fn stop(&self) {
        self.shut_down.set(true);
        self.timers.cancel_all();
        self.probe.cancel();
        self.listeners.borrow_mut().clear();
        self.channel.borrow_mut().take();
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.get()
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.stop();
    }
}
