//! Loading JSON for a view: `GET` through the token client's Bearer handle into a signal,
//! again whenever a trigger changes — and again when the client reports that the server is
//! back (`AuthEvent::Recovered`) if the last answer failed because it was unavailable. So a
//! view that says "retrying" does retry. The previous answer stays visible while the next one
//! loads (no flicker), and an answer that arrives after a newer request started is dropped.
//!
//! (A plain signal + `spawn_local` instead of `LocalResource` + `<Transition>`: the same
//! behaviour for these two views at a fraction of the bundle size.)

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use tokenpair_api::js::{self, FromJs};
use tokenpair_client::{ApiClient, AuthEvent, ClientError, Request, TokenpairProtocol};

use crate::context::use_auth;
use crate::effect::effect;

/// What a view shows: `None` until the first answer.
pub type Loaded<T> = RwSignal<Option<Result<T, ClientError>>>;

/// `GET path` now and each time `trigger` changes.
pub fn fetch_json<T>(path: impl Fn() -> String + 'static, trigger: RwSignal<u32>) -> Loaded<T>
where
    T: FromJs + Send + Sync + 'static,
{
    load(path, trigger, |api, path| async move {
        let response = api.send(Request::get(path)).await?;
        js::parse::<T>(&response.text()).map_err(ClientError::BadResponse)
    })
}

/// Like [`fetch_json`] for a paginated list: every page, following `Link: rel="next"`.
pub fn fetch_json_pages<T>(
    path: impl Fn() -> String + 'static,
    trigger: RwSignal<u32>,
) -> Loaded<Vec<T>>
where
    T: FromJs + Send + Sync + 'static,
{
    load(path, trigger, |api, path| async move {
        api.get_pages(&path, |page| js::parse::<Vec<T>>(&page.text()))
            .await
    })
}

/// The sentence a view shows for a failed load.
pub fn failure(error: &ClientError) -> String {
    match error {
        // This view asks again when the client reports that the server is back.
        ClientError::Unavailable(problem) => problem.message(),
        other => other.to_string(),
    }
}

fn load<T, Fut>(
    path: impl Fn() -> String + 'static,
    trigger: RwSignal<u32>,
    get: impl Fn(ApiClient<TokenpairProtocol>, String) -> Fut + 'static,
) -> Loaded<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ClientError>> + 'static,
{
    let auth = use_auth();
    let loaded: Loaded<T> = RwSignal::new(None);
    let (again, unavailable) = again_when_recovered();
    let latest = Rc::new(Cell::new(0u32));
    effect(move |_| {
        trigger.track();
        again.track();
        let ticket = latest.get().wrapping_add(1);
        latest.set(ticket);
        let (latest, unavailable) = (latest.clone(), unavailable.clone());
        let request = get(auth.api(), path());
        leptos::task::spawn_local(async move {
            let answer = request.await;
            if latest.get() == ticket {
                unavailable.set(matches!(answer, Err(ClientError::Unavailable(_))));
                loaded.try_set(Some(answer));
            }
        });
    });
    loaded
}

/// A trigger that changes when the client reports the server is back, if the flag says the
/// last answer failed because it was unavailable. (Not generic: one copy for every view.)
fn again_when_recovered() -> (RwSignal<u32>, Rc<Cell<bool>>) {
    let again = RwSignal::new(0u32);
    let unavailable = Rc::new(Cell::new(false));
    let failed = unavailable.clone();
    use_auth().on_event(move |event| {
        if matches!(event, AuthEvent::Recovered) && failed.get() {
            again.try_update(|n| *n += 1);
        }
    });
    (again, unavailable)
}
