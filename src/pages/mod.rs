pub mod account;
pub mod activity;
pub mod dashboard;
pub mod login;
pub mod passkeys;
pub mod sessions;
pub mod token;
