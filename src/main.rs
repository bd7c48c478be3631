fn main() {
    // The static shell in index.html stands in until now; the app renders the same frame.
    if let Some(shell) = leptos::prelude::document().get_element_by_id("shell") {
        shell.remove();
    }
    leptos::mount::mount_to_body(tokenpair::app::App);
}
