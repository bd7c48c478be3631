//! The cross-tab lock: `navigator.locks.request(name, { signal }, callback)` with a deadline.
//!
//! Everything that changes the refresh cookie — refresh, sign-in, register, sign-out — runs
//! inside this one exclusive Web Lock, so two tabs never rotate the cookie at the same moment
//! and a sign-in cannot be overwritten by a slow refresh from another tab.
//!
//! Waiting is bounded: after `timeout` the request is aborted (`AbortSignal`) and
//! [`with_lock`] reports [`LockTimedOut`]; the caller re-checks and proceeds without the lock
//! (a stuck tab must not freeze the others; the server's grace window covers the rare overlap).
//! Where Web Locks do not exist (insecure contexts), the work just runs.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use gloo_timers::callback::Timeout;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn lock_request(
        name: &str,
        options: &JsValue,
        callback: &Closure<dyn FnMut(JsValue) -> js_sys::Promise>,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// The lock was not granted before the deadline; the work did not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockTimedOut;

/// Whether `navigator.locks` exists here.
pub fn web_locks_available() -> bool {
    web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("locks")).ok())
        .is_some_and(|locks| !locks.is_undefined() && !locks.is_null())
}

/// Runs `work` while holding the exclusive Web Lock `name`, waiting at most `timeout` for it.
/// With `name == None` or without Web Locks, `work` runs at once.
pub async fn with_lock<F, Fut, T>(
    name: Option<&str>,
    timeout: Duration,
    work: F,
) -> Result<T, LockTimedOut>
where
    F: FnOnce() -> Fut + 'static,
    Fut: Future<Output = T> + 'static,
    T: 'static,
{
    let Some(name) = name.filter(|_| web_locks_available()) else {
        return Ok(work().await);
    };
    // The lock itself is not generic (one copy in the bundle, not one per caller): `work` goes
    // in boxed, its value comes back through `out`.
    let out: Rc<RefCell<Option<T>>> = Rc::default();
    let sink = out.clone();
    hold(
        name,
        timeout,
        Box::new(move || {
            Box::pin(async move {
                let value = work().await;
                *sink.borrow_mut() = Some(value);
            })
        }),
    )
    .await;
    let value = out.borrow_mut().take();
    // Aborted while waiting (or the browser refused the request): the work did not run.
    value.ok_or(LockTimedOut)
}

/// The work to run inside the lock.
type Job = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>>>;

/// Requests the lock and runs `job` once it is granted; returns when the lock is released, or
/// at once if the request was aborted at the deadline (then `job` never runs).
async fn hold(name: &str, timeout: Duration, job: Job) {
    let controller = web_sys::AbortController::new().ok();
    let options = js_sys::Object::new();
    if let Some(c) = &controller {
        let _ = js_sys::Reflect::set(&options, &"signal".into(), &c.signal());
    }
    // Abort the wait at the deadline; granted before it, the timer is cancelled.
    let deadline: Rc<RefCell<Option<Timeout>>> = Rc::default();
    if let Some(c) = controller.clone() {
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        *deadline.borrow_mut() = Some(Timeout::new(ms, move || c.abort()));
    }

    let deadline_in_lock = deadline.clone();
    let mut job = Some(job);
    let callback = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_lock: JsValue| {
        deadline_in_lock.borrow_mut().take();
        let job = job.take();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(job) = job {
                job().await;
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    if let Ok(promise) = lock_request(name, &options, &callback) {
        // Rejected when aborted: `job` did not run, which the caller sees.
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    deadline.borrow_mut().take();
}
