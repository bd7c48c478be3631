//! Loading JSON for a view: `GET` through the token client's Bearer handle into a signal,
//! again whenever a trigger changes. The previous answer stays visible while the next one
//! loads (no flicker), and an answer that arrives after a newer request started is dropped.
//!
//! (A plain signal + `spawn_local` instead of `LocalResource` + `<Transition>`: the same
//! behaviour for these two views at a fraction of the bundle size.)

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;

use leptos::prelude::*;
use tokenpair_client::wire::FromJson;
use tokenpair_client::{ApiClient, ClientError};

use crate::context::use_auth;
use crate::effect::effect;

/// What a view shows: `None` until the first answer.
pub type Loaded<T> = RwSignal<Option<Result<T, ClientError>>>;

/// `GET path` now and each time `trigger` changes.
pub fn fetch_json<T>(path: impl Fn() -> String + 'static, trigger: RwSignal<u32>) -> Loaded<T>
where
    T: FromJson + Send + Sync + 'static,
{
    load(path, trigger, |api, path| async move {
        api.get_wire::<T>(&path).await
    })
}

/// Like [`fetch_json`] for a paginated list: every page, following `Link: rel="next"`.
pub fn fetch_json_pages<T>(
    path: impl Fn() -> String + 'static,
    trigger: RwSignal<u32>,
) -> Loaded<Vec<T>>
where
    T: FromJson + Send + Sync + 'static,
{
    load(path, trigger, |api, path| async move {
        api.get_wire_pages::<T>(&path).await
    })
}

fn load<T, Fut>(
    path: impl Fn() -> String + 'static,
    trigger: RwSignal<u32>,
    get: impl Fn(ApiClient, String) -> Fut + 'static,
) -> Loaded<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ClientError>> + 'static,
{
    let auth = use_auth();
    let loaded: Loaded<T> = RwSignal::new(None);
    let latest = Rc::new(Cell::new(0u32));
    effect(move |_| {
        trigger.track();
        let ticket = latest.get().wrapping_add(1);
        latest.set(ticket);
        let (latest, request) = (latest.clone(), get(auth.api(), path()));
        leptos::task::spawn_local(async move {
            let answer = request.await;
            if latest.get() == ticket {
                loaded.try_set(Some(answer));
            }
        });
    });
    loaded
}
