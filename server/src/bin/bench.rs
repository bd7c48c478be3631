fn main() {
    eprintln!("tokenpair-bench: not implemented yet");
}
