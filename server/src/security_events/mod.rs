//! Security activity: an append-only record of what happened to an account (and to the
//! deployment), which people read at `GET /api/security-events` and operators read in the log.
//!
//! * **Written with the change.** [`SecurityEvents::record`] inserts into the caller's
//!   transaction: the session that ends and the event that says so commit together or not at
//!   all, on one instance or many. It returns a [`Recorded`] that the caller logs *after* the
//!   commit, so the log never tells of a change that rolled back.
//! * **What each event keeps**: time, user, session, the device (a summary of the user agent,
//!   [`crate::device::name`]), the client address under [`AddressPolicy`], and a short detail.
//! * **Bounded.** The prune job ([`crate::maintenance`]) deletes events older than
//!   `SECURITY_EVENT_RETENTION` and keeps at most `SECURITY_EVENT_MAX_PER_USER` per user (the
//!   newest). Between two passes a flood is bounded by what produces events: failed sign-ins
//!   are throttled ([`crate::throttle`]: about a hundred a day per account), refusals during a
//!   block record nothing (the block itself is one event), and an unknown account's failures
//!   are only logged, never stored.
//!
//! The kinds are [`SecurityEventKind`], shared with the SPA through the `api` crate.

pub mod address;
mod store;

use std::net::IpAddr;
use std::time::Duration;

pub use address::AddressPolicy;
pub use store::{record, Cursor, Page};
pub use tokenpair_api::SecurityEventKind as Kind;

use crate::clock::{Clock, Timestamp};
use crate::db::Db;
use crate::ids::{SessionId, UserId};

/// The kinds the dashboard shows once as a notice: someone else may have held the account's
/// tokens. (DPoP key mismatches will join them.)
pub const NOTICE_KINDS: &[Kind] = &[
    Kind::RefreshTokenReused,
    Kind::DpopKeyMismatch,
    Kind::PasskeyCloneSuspected,
];

/// Where a request came from, as events record it.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub addr: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Client {
    /// A session's own device, known only by its stored user agent (no request, no address):
    /// what an event about a session that ended by itself or was ended for room records.
    pub fn device(user_agent: Option<String>) -> Client {
        Client {
            addr: None,
            user_agent,
        }
    }
}

/// One event to record.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: Kind,
    /// Usually now (an expiry found later records when it happened).
    pub at: Timestamp,
    pub user_id: Option<UserId>,
    pub session_id: Option<SessionId>,
    pub client: Client,
    pub detail: Option<String>,
}

impl Event {
    pub fn new(kind: Kind, at: Timestamp, user_id: Option<UserId>) -> Event {
        Event {
            kind,
            at,
            user_id,
            session_id: None,
            client: Client::default(),
            detail: None,
        }
    }

    pub fn session(mut self, sid: &SessionId) -> Event {
        self.session_id = Some(sid.clone());
        self
    }

    pub fn client(mut self, client: &Client) -> Event {
        self.client = client.clone();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Event {
        self.detail = Some(detail.into());
        self
    }
}

/// One stored event, as `GET /api/security-events` lists it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub at: i64,
    pub kind: String,
    pub session_id: Option<String>,
    pub device: Option<String>,
    pub address: Option<String>,
    pub detail: Option<String>,
}

impl StoredEvent {
    pub fn to_api(&self, current_sid: &str) -> tokenpair_api::SecurityEvent {
        tokenpair_api::SecurityEvent {
            id: self.id.to_string(),
            kind: self.kind.clone(),
            at: crate::db::rfc3339(self.at),
            current: self.session_id.as_deref() == Some(current_sid),
            session_id: self.session_id.clone(),
            device: self.device.clone(),
            address: self.address.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// What the settings say about events.
#[derive(Debug, Clone, Copy)]
pub struct EventPolicy {
    pub address: AddressPolicy,
    pub retention: Duration,
    pub max_per_user: u32,
}

impl Default for EventPolicy {
    fn default() -> Self {
        EventPolicy {
            address: AddressPolicy::Truncated,
            retention: Duration::from_secs(90 * 24 * 3600),
            max_per_user: 1000,
        }
    }
}

/// The security events: recording (in the caller's transaction), listing, pruning.
#[derive(Clone, Debug)]
pub struct SecurityEvents {
    db: Db,
    policy: EventPolicy,
    clock: Clock,
}

/// Events written in a transaction that has not committed yet: log them once it has.
#[derive(Debug, Default)]
#[must_use = "log the recorded events once the transaction has committed"]
pub struct Recorded(Vec<Logged>);

/// An event as it was stored (the address as the policy kept it), for the log.
#[derive(Debug)]
struct Logged {
    id: i64,
    kind: Kind,
    user_id: Option<UserId>,
    session_id: Option<SessionId>,
    device: Option<String>,
    address: Option<String>,
    detail: Option<String>,
}

impl Recorded {
    pub fn and(mut self, other: Recorded) -> Recorded {
        self.0.extend(other.0);
        self
    }

    /// The rows written (to withdraw them with the change, see [`crate::throttle`]).
    pub fn ids(&self) -> Vec<i64> {
        self.0.iter().map(|e| e.id).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One structured `tracing` event per security event (target `security`, message
    /// `security event`): with `LOG_FORMAT=json`, one JSON object per line for a log shipper.
    /// The address is the one stored, under the same `SECURITY_EVENT_ADDRESS` policy.
    pub fn log(self) {
        for e in self.0 {
            tracing::info!(
                target: "security",
                kind = e.kind.as_str(),
                user = e.user_id.map(|u| u.0),
                session = e.session_id.as_ref().map(SessionId::as_str),
                device = e.device.as_deref(),
                address = e.address.as_deref(),
                detail = e.detail.as_deref(),
                "security event"
            );
        }
    }
}
