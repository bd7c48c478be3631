//! e2e harness (filled in below)
