//! A window event listener that is removed when dropped (so no handler outlives the client).

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub(crate) struct Listener {
    target: web_sys::EventTarget,
    event: &'static str,
    handler: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    /// Listens to `event` on `window`; `None` outside a browser window.
    pub(crate) fn on_window(
        event: &'static str,
        handler: impl FnMut(web_sys::Event) + 'static,
    ) -> Option<Listener> {
        let target: web_sys::EventTarget = web_sys::window()?.into();
        let handler = Closure::<dyn FnMut(web_sys::Event)>::new(handler);
        target
            .add_event_listener_with_callback(event, handler.as_ref().unchecked_ref())
            .ok()?;
        Some(Listener {
            target,
            event,
            handler,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.handler.as_ref().unchecked_ref());
    }
}
