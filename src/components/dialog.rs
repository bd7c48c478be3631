//! Modal `<dialog>` helpers shared by the confirmation and any other modal.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// `on:keydown` for a modal dialog: Tab and Shift+Tab wrap around its enabled controls.
/// `showModal()` makes the page behind it inert, but Tab from the last control would still
/// leave the dialog (to the browser's own UI, then `<body>`).
///
/// ```text
/// <dialog node_ref=dialog on:keydown=move |ev| trap_tab(dialog, &ev)>…</dialog>
/// ```
pub fn trap_tab(dialog: NodeRef<leptos::html::Dialog>, ev: &leptos::ev::KeyboardEvent) {
    if ev.key() != "Tab" {
        return;
    }
    let Some(d) = dialog.get_untracked() else {
        return;
    };
    let Ok(controls) =
        d.query_selector_all("button:not([disabled]), a[href], input:not([disabled])")
    else {
        return;
    };
    let last = controls.length().checked_sub(1);
    let (Some(first), Some(last)) = (controls.item(0), last.and_then(|i| controls.item(i))) else {
        // Nothing to focus in it (e.g. every button busy): the focus stays.
        ev.prevent_default();
        return;
    };
    let active: Option<web_sys::Node> = document().active_element().map(Into::into);
    let (edge, target) = if ev.shift_key() {
        (first, last)
    } else {
        (last, first)
    };
    let outside = active.as_ref().is_none_or(|a| !d.contains(Some(a)));
    if outside || active.as_ref() == Some(&edge) {
        ev.prevent_default();
        if let Ok(target) = target.dyn_into::<web_sys::HtmlElement>() {
            let _ = target.focus();
        }
    }
}
