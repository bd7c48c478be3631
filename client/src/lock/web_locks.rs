//! The Web Lock: `navigator.locks.request(name, { signal }, callback)`, with a deadline for
//! waiting (an `AbortSignal`) and one for holding (the callback's promise resolves at the
//! deadline at the latest).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use wasm_bindgen::prelude::*;

use super::held::{Held, Job};
use crate::time::Timer;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = ["navigator", "locks"], js_name = request)]
    fn lock_request(
        name: &str,
        options: &JsValue,
        callback: &Closure<dyn FnMut(JsValue) -> js_sys::Promise>,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// Whether `navigator.locks` exists here.
pub fn web_locks_available() -> bool {
    web_sys::window()
        .map(|w| w.navigator())
        .and_then(|n| js_sys::Reflect::get(&n, &JsValue::from_str("locks")).ok())
        .is_some_and(|locks| !locks.is_undefined() && !locks.is_null())
}

/// Requests the lock and runs `job` once it is granted. Returns when the job is done (and the
/// lock released), or at once if the request was aborted at the waiting deadline (then `job`
/// is dropped without running).
pub(super) async fn hold(name: &str, timeout: Duration, job: Job) {
    let controller = web_sys::AbortController::new().ok();
    let options = js_sys::Object::new();
    if let Some(c) = &controller {
        let _ = js_sys::Reflect::set(&options, &"signal".into(), &c.signal());
    }
    // Abort the wait at the deadline; granted before it, the timer is cancelled.
    let waiting: Rc<RefCell<Option<Timer>>> = Rc::default();
    if let Some(c) = controller {
        *waiting.borrow_mut() = Some(Timer::after(timeout, move || c.abort()));
    }
    let waiting_in_lock = waiting.clone();
    let mut job = Some(job);
    let callback = Closure::<dyn FnMut(JsValue) -> js_sys::Promise>::new(move |_lock: JsValue| {
        waiting_in_lock.borrow_mut().take();
        let job = job.take();
        wasm_bindgen_futures::future_to_promise(async move {
            if let Some(job) = job {
                job(Held::from_now(timeout)).await;
            }
            Ok(JsValue::UNDEFINED)
        })
    });
    if let Ok(promise) = lock_request(name, &options, &callback) {
        // Rejected when aborted: `job` did not run, which the caller sees.
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    waiting.borrow_mut().take();
}
