pub mod dialog;
pub mod layout;
pub mod page_heading;
pub mod session_ending;
