fn main() {
    leptos::mount::mount_to_body(tokenpair::app::App);
}
