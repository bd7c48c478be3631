//! What this tab does with the other tabs' messages ([`crate::tabs`]).
//!
//! * `SignedIn`: a new sign-in replaces whatever this tab had.
//! * `Token`: adopted only while restoring, or for the **same sign-in** this tab holds (the
//!   same session id where the backend names sessions, otherwise the same user), and only if
//!   it lasts longer than ours. A token of another sign-in is stale or foreign and ignored.
//! * `SignedOut`: applied only if it names the sign-in this tab holds (or, for "everywhere",
//!   its user), or while restoring. A stale sign-out of an older sign-in changes nothing.
//! * `SignOutConfirmed` / `SignOutStopped`: the pending sign-out is over; show the notice.

use std::rc::Rc;

use crate::auth_state::{AuthState, Notice, SignOutScope};
use crate::core::{same_sign_in, Arrival, Core};
use crate::events::SignOutReason;
use crate::protocol::Protocol;
use crate::tabs::{Channel, TabMessage, TabSignOut, UserCodec};
use crate::time::Instant;
use crate::timeline::TimelineKind;

impl<P: Protocol> Core<P> {
    /// Opens the channel (if configured) and applies the other tabs' messages here.
    pub(crate) fn join_tabs(self: &Rc<Self>) {
        let Some(name) = self.config.channel_name.clone() else {
            return;
        };
        let weak = Rc::downgrade(self);
        let channel = Channel::open(&name, move |data| {
            let Some(core) = weak.upgrade() else { return };
            let protocol = &core.protocol;
            let codec = UserCodec {
                to_js: &|u| protocol.user_to_js(u),
                from_js: &|v| protocol.user_from_js(v),
            };
            if let Some(message) = TabMessage::from_js(&data, &codec) {
                core.on_tab_message(message);
            }
        });
        *self.channel.borrow_mut() = channel;
    }

    fn on_tab_message(self: &Rc<Self>, message: TabMessage<P::User>) {
        if self.is_shut_down() {
            return;
        }
        let log = |detail: &str| self.state.store.log(TimelineKind::CrossTab, detail);
        match message {
            TabMessage::SignedIn { grant } => {
                self.token_arrived(grant.grant(), Arrival::TabSignedIn);
            }
            TabMessage::Token { grant } => {
                let grant = grant.grant();
                match self.state.auth() {
                    AuthState::Restoring => self.token_arrived(grant, Arrival::TabRefreshed),
                    AuthState::SignedIn { user, token }
                        if same_sign_in(&user, token.session_id(), &grant) =>
                    {
                        let lasts_longer = grant.expires_in.as_millis() as f64
                            > token.remaining_ms(&Instant::now());
                        if lasts_longer {
                            self.token_arrived(grant, Arrival::TabRefreshed);
                        }
                    }
                    _ => log("ignored another tab's token for a different sign-in"),
                }
            }
            TabMessage::SignedOut {
                user,
                session_id,
                how,
            } => {
                let everywhere = how == TabSignOut::ByUser(SignOutScope::Everywhere);
                let applies = match self.state.auth() {
                    AuthState::Restoring => true,
                    AuthState::SignedIn { user: mine, token } => {
                        let same_session = match (session_id.as_deref(), token.session_id()) {
                            (Some(a), Some(b)) => a == b,
                            _ => user.as_ref() == Some(&mine),
                        };
                        same_session || (everywhere && user.as_ref() == Some(&mine))
                    }
                    AuthState::SignedOut => false,
                };
                if applies {
                    let (notice, reason) = match how {
                        TabSignOut::SessionEnded => {
                            let code = "ended in another tab".to_owned();
                            (Notice::SessionEnded, SignOutReason::SessionEnded { code })
                        }
                        TabSignOut::ByUser(scope) => (
                            Notice::SignedOutInAnotherTab,
                            SignOutReason::ByUser { scope },
                        ),
                    };
                    self.signed_out_here(Some(notice), "signed out in another tab", reason);
                } else if !self.state.is_signed_out() {
                    log("ignored another tab's sign-out of a different sign-in");
                    return;
                }
                if let TabSignOut::ByUser(scope) = how {
                    self.state.set_pending_sign_out(Some(scope));
                }
            }
            TabMessage::SignOutConfirmed { scope } => {
                if self.state.pending_sign_out().is_some() && self.state.is_signed_out() {
                    self.state.set_pending_sign_out(None);
                    self.state.set_problem(None);
                    self.state.store.set_notice(Some(match scope {
                        SignOutScope::Everywhere => Notice::SignedOutEverywhere,
                        SignOutScope::ThisDevice => Notice::SignedOut,
                    }));
                }
            }
            TabMessage::SignOutStopped { status, code } => {
                if self.state.pending_sign_out().is_some() && self.state.is_signed_out() {
                    self.state.set_pending_sign_out(None);
                    self.state.set_problem(None);
                    self.state
                        .store
                        .set_notice(Some(Notice::SignOutRefused { status, code }));
                }
            }
        }
    }
}
