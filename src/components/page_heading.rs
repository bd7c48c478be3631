//! The main heading of every view: it sets the document title and takes the focus when the
//! view appears (after navigation, sign-in and sign-out), so a screen reader announces where
//! the user is and the next Tab starts at the top of the new content, not at the footer.

use leptos::prelude::*;

use crate::effect::effect;

/// `<h1>` for a view titled `title` (the document title becomes "`title` · tokenpair").
#[component]
pub fn PageHeading(title: &'static str) -> impl IntoView {
    let heading = NodeRef::<leptos::html::H1>::new();
    document().set_title(&[title, " · tokenpair"].concat());
    effect(move |_| {
        if let Some(h1) = heading.get() {
            let _ = h1.focus();
        }
    });
    view! { <h1 tabindex="-1" class="page-heading" node_ref=heading>{title}</h1> }
}
