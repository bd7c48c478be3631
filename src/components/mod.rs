pub mod layout;
pub mod page_heading;
