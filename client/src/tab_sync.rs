//! What this tab does with the other tabs' messages ([`crate::tabs`]).
//!
//! * `SignedIn`: a new sign-in replaces whatever this tab had.
//! * `Token`: adopted only while restoring, or for the **same user and session** this tab
//!   holds, and only if it lasts longer than ours. A token of another session is stale or
//!   foreign and ignored.
//! * `SignedOut`: applied only if it names the session this tab holds (or, for "everywhere",
//!   its user), or while restoring. A stale sign-out of an older sign-in changes nothing.
//! * `SignOutConfirmed`: the pending sign-out is over; show the notice.

use std::rc::Rc;

use crate::clock::Instant;
use crate::core::Core;
use crate::events::EventKind;
use crate::state::{AuthState, Notice, SignOutScope};
use crate::tabs::{Channel, TabMessage};

impl Core {
    /// Opens the channel (if configured) and applies the other tabs' messages here.
    pub(crate) fn join_tabs(self: &Rc<Self>) {
        let Some(name) = self.config.channel_name.clone() else {
            return;
        };
        let weak = Rc::downgrade(self);
        let channel = Channel::open(&name, move |message| {
            if let Some(core) = weak.upgrade() {
                core.on_tab_message(message);
            }
        });
        *self.channel.borrow_mut() = channel;
    }

    fn on_tab_message(self: &Rc<Self>, message: TabMessage) {
        if self.is_shut_down() {
            return;
        }
        let store = self.store;
        match message {
            TabMessage::SignedIn { response } => {
                store.begin(&response, EventKind::CrossTab, "signed in in another tab");
                self.recovered();
                self.schedule_proactive();
            }
            TabMessage::Token { response } => match store.state_untracked() {
                AuthState::Restoring => {
                    store.begin(
                        &response,
                        EventKind::CrossTab,
                        "another tab restored the session",
                    );
                    self.recovered();
                    self.schedule_proactive();
                }
                AuthState::SignedIn { user, token }
                    if user.id == response.user.id && token.session_id == response.session_id =>
                {
                    let now = Instant::now();
                    if response.expires_in as f64 * 1000.0 > token.remaining_ms(&now) {
                        store.replace_token(
                            &response,
                            EventKind::CrossTab,
                            "another tab refreshed the access token",
                        );
                        self.recovered();
                        self.schedule_proactive();
                    }
                }
                _ => store.log(
                    EventKind::CrossTab,
                    "ignored another tab's token for a different sign-in",
                ),
            },
            TabMessage::SignedOut {
                user_id,
                session_id,
                everywhere,
                session_ended,
            } => {
                let applies = match store.state_untracked() {
                    AuthState::Restoring => true,
                    AuthState::SignedIn { user, token } => {
                        session_id.as_deref() == Some(token.session_id.as_str())
                            || (everywhere && user_id == Some(user.id))
                    }
                    AuthState::SignedOut => false,
                };
                if applies {
                    self.timers.cancel_all();
                    self.probe.cancel();
                    let notice = if session_ended {
                        Notice::SessionEnded
                    } else {
                        Notice::SignedOutInAnotherTab
                    };
                    store.end(Some(notice), "signed out in another tab");
                } else if !matches!(store.state_untracked(), AuthState::SignedOut) {
                    store.log(
                        EventKind::CrossTab,
                        "ignored another tab's sign-out of a different sign-in",
                    );
                    return;
                }
                if !session_ended {
                    let scope = if everywhere {
                        SignOutScope::Everywhere
                    } else {
                        SignOutScope::ThisDevice
                    };
                    store.set_pending_sign_out(Some(scope));
                }
            }
            TabMessage::SignOutConfirmed { everywhere } => {
                if store.pending_sign_out_untracked().is_some()
                    && matches!(store.state_untracked(), AuthState::SignedOut)
                {
                    store.set_pending_sign_out(None);
                    store.set_problem(None);
                    store.set_notice(Some(if everywhere {
                        Notice::SignedOutEverywhere
                    } else {
                        Notice::SignedOut
                    }));
                }
            }
        }
    }
}
