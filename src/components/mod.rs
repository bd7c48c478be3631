pub mod dialog;
pub mod layout;
pub mod page_heading;
pub mod passkey_sign_in;
pub mod reauthenticate;
pub mod session_ending;
