pub mod activity;
pub mod dashboard;
pub mod login;
pub mod sessions;
pub mod token;
